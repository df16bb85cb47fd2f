import HyperstackMCP
import HyperstackRPCServer
import JSONRPC

extension HyperstackServer {
    /// Opens an MCP session for one client (NDJSON, as MCP's stdio transport is): the same store,
    /// polling and change subscription as any session, with MCP's session and method table.
    /// - Parameter inlineSecrets: `--mcp-inline-secrets`: generated secrets come back in results.
    package func openMCPSession(sink: any FrameSink, inlineSecrets: Bool, limits: SessionLimits? = nil) -> HyperstackSession {
        let limits = limits ?? SessionLimits(settings: settings)
        let state = MCPConnectionState()
        let options = MCPOptions(secretFiles: secretFiles, inlineSecrets: inlineSecrets)
        let session = MCPSession(state: state, instructions: MCPInstructions.text(options))
        let configured = limits.pollInterval > 0 ? Duration(optionSeconds: limits.pollInterval) : nil
        let store = store
        let includeTestMethods = includeTestMethods
        return open(
            session, framing: .ndjson, sink: sink, limits: limits,
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
