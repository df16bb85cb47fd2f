import ArgumentParser
import CProcessStartup
import DaemonWire
import Foundation
import HyperstackDaemon
import HyperstackRPCHost
import HyperstackRPCServer
import JSONRPCStdio

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
            initializationOptions.apiKey; --sandbox needs none. An access token (sent as \
            Authorization: Bearer, used by apiKeys.generate) comes from HYPERSTACK_ACCESS_TOKEN, \
            --access-token-file or initializationOptions.accessToken.
            SIGTERM, SIGINT and SIGHUP finish in-flight requests, then exit 0; SIGUSR1 logs one \
            status line; SIGUSR2 is ignored. A closed or read-only stdout at start is exit status 1.
            """,
        // The fingerprint names the build exactly (and its daemon socket): two binaries with the
        // same version but another build say so here.
        version: "\(ServerIdentity.version) (build \(BuildFingerprint.ofThisBuild))",
        subcommands: [ServeCommand.self, CallCommand.self, DaemonCommand.self, MCPCommand.self],
        defaultSubcommand: ServeCommand.self
    )

    /// Parses and runs, mapping usage errors to exit status 2 as shells expect.
    static func main() async {
        refuseUnusableStandardOutput()
        hs_disarm_crash_reporter()
        do {
            // How editors start us: no arguments at all, which means serving with every default.
            // That skips the parser, whose reflection over the option types is two thirds of the
            // start-up time in a static binary (see `Settings` for why the two cannot differ).
            if CommandLine.arguments.count <= 1 {
                try await ServeCommand.serve(.defaults, remote: RemoteChoice.endpoint(option: nil))
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
                let failure = OutputDescriptor.writeAll(STDOUT_FILENO, Array((message + "\n").utf8))
                Foundation.exit(failure == 0 ? 0 : 1)
            }
            if !message.isEmpty { StandardError.write(message + "\n") }
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

extension HyperstackRPCCommand {
    /// Exit status when stdout cannot carry the protocol (closed or read-only at start).
    static let unusableOutputStatus: Int32 = 1

    /// The very first thing: a process started with fd 1 closed would otherwise write the
    /// protocol into whatever descriptor was opened next. The C constructor in
    /// `CProcessStartup` has already put /dev/null on every closed one of fds 0–2; here a
    /// closed or read-only stdout ends the process, with a message if stderr is usable.
    /// A closed stdin reads as empty input, a closed stderr discards the log.
    static func refuseUnusableStandardOutput() {
        let findings = hs_startup_findings()
        let stdoutClosed = findings & Int32(HS_STARTUP_STDOUT_CLOSED) != 0
        let stdoutReadOnly = findings & Int32(HS_STARTUP_STDOUT_NOT_WRITABLE) != 0
        guard stdoutClosed || stdoutReadOnly else { return }
        if findings & Int32(HS_STARTUP_STDERR_CLOSED) == 0 {
            let problem = stdoutClosed ? "is closed" : "is not open for writing"
            let message = "hyperstack-rpc: standard output (fd 1) \(problem), so there is nowhere to write answers; "
                + "start hyperstack-rpc with stdout connected to a pipe or a file.\n"
            StandardError.write(message)
        }
        Foundation.exit(unusableOutputStatus)
    }
}
