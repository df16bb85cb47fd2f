import ArgumentParser
import Foundation
import HyperstackRPCHost
import JSONRPC
import LogOutput
import Logging

/// `hyperstack-rpc mcp`: serves the Model Context Protocol on stdin/stdout, for AI agents.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the Model Context Protocol (MCP) on stdin/stdout, for AI agents.",
        discussion: """
            One JSON message per line on stdin and stdout; logs go to stderr; the server exits when \
            stdin closes. Tools: list_api_keys, generate_api_key, update_api_key, delete_api_key. \
            Resources: hyperstack://api-keys and hyperstack://api-keys/{id}, with subscriptions. \
            MCP revisions 2024-11-05, 2025-03-26, 2025-06-18 and 2025-11-25 through initialize, and \
            the stateless 2026-07-28 (server/discover, _meta on every request, subscriptions/listen).
            With --remote auto (or HYPERSTACK_RPC_REMOTE=auto) the session goes through the shared \
            per-user daemon, like serve's: one cache and rate budget with every other session on the \
            machine, and a subscriber hears of keys that other sessions generate at once, without polling. \
            Secret files are still written where this command's --secrets-dir and --allow-secrets-in say.
            generate_api_key writes the new secret to a new file (mode 0600, never overwritten) and \
            returns its path, never the secret, so it stays out of the model's context and the \
            provider's logs. --mcp-inline-secrets returns it inline instead: unsafe with hosted models.
            Example (Claude Code): claude mcp add hyperstack --env HYPERSTACK_API_KEY=... -- hyperstack-rpc mcp
            Example (no key needed): hyperstack-rpc mcp --sandbox --secrets-dir ./secrets
            Example (shared daemon): hyperstack-rpc mcp --remote auto --api-key-file ~/.config/hyperstack/api-key
            """
    )

    @OptionGroup var options: SharedOptions

    @Flag(help: "Return generated secrets inline in tool results instead of writing them to files. Unsafe with hosted models: the secret enters the model's context and its provider's logs.")
    var mcpInlineSecrets = false

    func validate() throws {
        guard options.framing == .auto || options.framing == .ndjson else {
            throw ValidationError("mcp speaks NDJSON only (MCP's stdio transport); leave out --framing")
        }
    }

    func run() async throws {
        try await ServeCommand.serve(
            options.settings, secretFiles: options.secretFiles, protocol: .mcp(inlineSecrets: mcpInlineSecrets),
            remote: RemoteChoice.endpoint(option: options.remote))
    }
}
