import HyperstackMCP
import HyperstackRPCServer
import JSONRPC
import SecureFiles

extension HyperstackServer {
    /// Opens an MCP session for one client (NDJSON, as MCP's stdio transport is): the same store,
    /// polling and change subscription as any session, with MCP's session and method table.
    /// - Parameters:
    ///   - inlineSecrets: `--mcp-inline-secrets`: generated secrets come back in results.
    ///   - secretFiles: where this session's `generate_api_key` may write, where it differs from
    ///     the server's (a daemon's sessions each bring the client's); `nil`: the server's.
    ///   - framing: the connection's framing: NDJSON on stdio, as MCP's stdio transport is;
    ///     Content-Length on a daemon's socket, where the forwarder frames the client's NDJSON.
    package func openMCPSession(
        sink: any FrameSink, inlineSecrets: Bool, limits: SessionLimits? = nil, secretFiles: SecretFilePolicy? = nil,
        framing: Framing = .ndjson
    ) -> HyperstackSession {
        let limits = limits ?? SessionLimits(settings: settings)
        let state = MCPConnectionState()
        let options = MCPOptions(secretFiles: secretFiles ?? self.secretFiles, inlineSecrets: inlineSecrets)
        let session = MCPSession(state: state, instructions: MCPInstructions.text(options))
        let configured = limits.pollInterval > 0 ? Duration(optionSeconds: limits.pollInterval) : nil
        let store = store
        let includeTestMethods = includeTestMethods
        return open(
            session, framing: framing, sink: sink, limits: limits,
            methods: { pollDemand in
                MCPMethods.table(
                    store: store, options: options, state: state, pollDemand: pollDemand,
                    configuredPollInterval: configured, includeTestMethods: includeTestMethods)
            },
            onChange: { connection, change in
                MCPChangeNotifications.send(for: change, state: state) { method, params in
                    connection.notify(method, params: params)
                }
            })
    }
}

/// Which protocol a stdio server speaks to its client.
package enum SessionProtocol: Sendable, Equatable {
    /// The JSON-RPC protocol of `protocol/`, LSP-style lifecycle, either framing.
    case jsonRPC
    /// The Model Context Protocol, NDJSON (`hyperstack-rpc mcp`).
    case mcp(inlineSecrets: Bool)
}
