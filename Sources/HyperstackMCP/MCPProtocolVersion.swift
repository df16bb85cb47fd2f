/// The MCP revisions this server speaks, in both eras, and the rules between them that change
/// what a client sees from the same call.
package enum MCPProtocolVersion {
    /// The revisions negotiated once per connection by `initialize`, oldest first.
    package static let supported = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]

    package static let latest = "2025-11-25"

    /// The stateless revisions: no handshake, each request names its revision and the client's
    /// capabilities in `_meta` (`MCPRequestEnvelope`), `server/discover` describes the server.
    package static let stateless = ["2026-07-28"]

    package static func isStateless(_ version: String) -> Bool { stateless.contains(version) }

    /// The spec's negotiation: the client's version when we speak it, else our latest, and the
    /// client decides whether to go on.
    package static func negotiate(requested: String) -> String {
        supported.contains(requested) ? requested : latest
    }

    /// From 2025-11-25 on, arguments that fail a tool's input schema are tool execution errors
    /// (`isError: true`), so a model can read the message and correct itself (SEP-1303); the
    /// revisions before answer them with the protocol error -32602.
    package static func reportsInvalidArgumentsAsToolErrors(_ version: String) -> Bool {
        version >= "2025-11-25"
    }
}
