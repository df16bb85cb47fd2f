import JSONRPC
import JanssonJSON

/// The facts a 2026-07-28 request carries about itself in `params._meta`, in place of a
/// handshake: its revision and the client's capabilities (both required), the client's
/// identity, and the progress token. Checked in the spec's order, so a client that gets
/// something wrong hears the first thing to fix.
package struct MCPRequestEnvelope: Equatable, Sendable {
    package static let protocolVersionKey = "io.modelcontextprotocol/protocolVersion"
    package static let clientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    package static let clientInfoKey = "io.modelcontextprotocol/clientInfo"
    package static let serverInfoKey = "io.modelcontextprotocol/serverInfo"
    package static let subscriptionIDKey = "io.modelcontextprotocol/subscriptionId"

    /// MCP's "unsupported protocol version", whose `data` lists what we serve.
    package static let unsupportedProtocolVersion = -32022

    package let protocolVersion: String
    package let clientCapabilities: JSONObject

    /// Whether `params` claims the stateless era at all: the protocol-version key is reserved
    /// to it, so handshake-era traffic never carries it (a bare `_meta` with a `progressToken`
    /// is not a claim).
    package static func isClaimed(by params: JSON?) -> Bool {
        params?["_meta"]?.objectValue?[protocolVersionKey] != nil
    }

    /// Reads and checks the envelope of one request: -32602 for a missing or malformed one,
    /// -32022 with the revisions we serve for one we don't.
    package init(params: JSON?) throws(RPCError) {
        guard case .object(let meta)? = params?["_meta"] else {
            throw RPCError.invalidParams(
                field: "_meta",
                reason: "must be an object carrying '\(Self.protocolVersionKey)' and '\(Self.clientCapabilitiesKey)': "
                    + "every request of the stateless revision \(MCPProtocolVersion.stateless.joined(separator: ", ")) names them")
        }
        let missing = [Self.protocolVersionKey, Self.clientCapabilitiesKey].filter { meta[$0] == nil }
        guard missing.isEmpty else {
            throw RPCError.invalidParams(field: "_meta", reason: "lacks the required key(s) \(missing.joined(separator: ", "))")
        }
        guard let version = meta[Self.protocolVersionKey]?.stringValue else {
            throw RPCError.invalidParams(field: "_meta.\(Self.protocolVersionKey)", reason: "must be a string such as \"\(MCPProtocolVersion.stateless.last!)\"")
        }
        guard case .object(let capabilities)? = meta[Self.clientCapabilitiesKey] else {
            throw RPCError.invalidParams(field: "_meta.\(Self.clientCapabilitiesKey)", reason: "must be an object (empty when the client has none)")
        }
        guard MCPProtocolVersion.isStateless(version) else { throw Self.unsupported(requested: version) }
        protocolVersion = version
        clientCapabilities = capabilities
    }

    /// -32022: `requested` is not a revision we serve on a request that names its own.
    package static func unsupported(requested: String?, detail: String? = nil) -> RPCError {
        var data: JSONObject = ["supported": .array(MCPProtocolVersion.stateless.map(JSON.string))]
        if let requested { data["requested"] = .string(requested) }
        let served = MCPProtocolVersion.stateless.joined(separator: ", ")
        return RPCError(
            code: unsupportedProtocolVersion,
            message: detail ?? "Unsupported protocol version \(requested.map { "\"\($0)\"" } ?? "(none)"); "
                + "requests that carry their revision in _meta may name \(served), "
                + "and the initialize handshake serves \(MCPProtocolVersion.supported.joined(separator: ", "))",
            data: .object(data))
    }
}
