import ArgumentParser
import Foundation
import HyperstackRPCServer

/// `hyperstack-rpc`: serves the JSON-RPC protocol on stdio, or runs one call for a shell.
@main
struct HyperstackRPCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hyperstack-rpc",
        abstract: "Manage Hyperstack API keys over JSON-RPC 2.0 on stdio.",
        discussion: """
            Without a subcommand, serves the protocol on stdin/stdout (LSP Content-Length \
            framing or NDJSON, detected from the first byte). Logs go to stderr.
            The API key comes from HYPERSTACK_API_KEY, --api-key-file, or initialize's \
            initializationOptions.apiKey; --sandbox needs none.
            """,
        version: ServerIdentity.version,
        subcommands: [ServeCommand.self, CallCommand.self],
        defaultSubcommand: ServeCommand.self
    )

    /// Parses and runs, mapping usage errors to exit status 2 as shells expect.
    static func main() async {
        do {
            // How editors start us: no arguments at all, which means serving with every default.
            // That skips the parser, whose reflection over the option types is two thirds of the
            // start-up time in a static binary (see `Settings` for why the two cannot differ).
            if CommandLine.arguments.count <= 1 {
                try await ServeCommand.serve(.defaults)
            }
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                // --help and --version: the only output that belongs on stdout before any protocol starts.
                FileHandle.standardOutput.write(Data((message + "\n").utf8))
                Foundation.exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
