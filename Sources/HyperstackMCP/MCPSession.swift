import JSONRPC
import JanssonJSON

/// hyperstack-rpc's MCP personality, the second beside `LSPSession`: the `initialize`
/// handshake with version negotiation, `ping`, `notifications/cancelled {requestId}` after
/// which a cancelled request gets no answer at all, and the `MCPLifecycle`, which also admits
/// the stateless revision's self-describing requests. The tools and resources are ordinary
/// methods in the table (`MCPMethods`).
package struct MCPSession: RPCSession {
    private let state: MCPConnectionState
    private let instructions: String

    package init(state: MCPConnectionState, instructions: String) {
        self.state = state
        self.instructions = instructions
    }

    package func makeLifecycle() -> any SessionLifecycle { MCPLifecycle(state: state) }

    /// A listen stream waits for the client, so when the input ends the server ends it.
    package func inputEnded() { state.listens.endAll() }

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
            "serverInfo": MCPStatelessResult.serverInfo,
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

    /// The same, less logging, which the stateless revision asks for per request and which we
    /// never send; subscriptions are `subscriptions/listen` streams there.
    static let statelessCapabilities: JSON = [
        "tools": ["listChanged": false],
        "resources": ["subscribe": true, "listChanged": true],
    ]
}

private let emptyObject = RPCResult.serialized(Array("{}".utf8))
