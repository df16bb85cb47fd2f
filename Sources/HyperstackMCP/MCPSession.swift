import JSONRPC
import JanssonJSON

/// hyperstack-rpc's MCP personality, the second beside `LSPSession`: the `initialize`
/// handshake with version negotiation, `ping`, `notifications/cancelled {requestId}` after
/// which a cancelled request gets no answer at all, and the `MCPLifecycle`. The tools and
/// resources are ordinary methods in the table (`MCPMethods`).
package struct MCPSession: RPCSession {
    private let state: MCPConnectionState
    private let serverInfo: JSON
    private let instructions: String

    package init(state: MCPConnectionState, name: String, version: String, instructions: String) {
        self.state = state
        self.serverInfo = ["name": .string(name), "title": "Hyperstack API keys", "version": .string(version)]
        self.instructions = instructions
    }

    package func makeLifecycle() -> any SessionLifecycle { MCPLifecycle() }

    package var builtInMethods: [String: RPCBuiltInHandler] { ["ping": { _ in emptyObject }] }

    package var cancelNotification: CancelNotification {
        CancelNotification(method: "notifications/cancelled", idMember: "requestId")
    }

    /// MCP: "the receiver SHOULD NOT send a response for the cancelled request".
    package func cancelledAnswer(_ cause: CancellationCause) -> RPCError? { nil }

    package func initialize(_ params: JSON?) async throws -> RPCResult {
        guard case .object(let members)? = params else {
            throw RPCError.invalidParams(field: "params", reason: "must be an object with protocolVersion, capabilities and clientInfo")
        }
        guard let requested = members["protocolVersion"]?.stringValue else {
            throw RPCError.invalidParams(field: "protocolVersion", reason: "is required, as a string such as \"\(MCPProtocolVersion.latest)\"")
        }
        if let capabilities = members["capabilities"], capabilities.objectValue == nil {
            throw RPCError.invalidParams(field: "capabilities", reason: "must be an object, not \(capabilities.typeName)")
        }
        let version = MCPProtocolVersion.negotiate(requested: requested)
        state.settle(version: version, clientCapabilities: members["capabilities"])
        return .json([
            "protocolVersion": .string(version),
            "capabilities": Self.capabilities,
            "serverInfo": serverInfo,
            "instructions": .string(instructions),
        ])
    }

    package func shutdown() async {}

    package func exit(code: Int32) {}

    /// Tools (a fixed set), resources with subscriptions and list changes, and logging.
    static let capabilities: JSON = [
        "tools": ["listChanged": false],
        "resources": ["subscribe": true, "listChanged": true],
        "logging": [:],
    ]
}

private let emptyObject = RPCResult.serialized(Array("{}".utf8))
