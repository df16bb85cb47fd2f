import ArgumentParser
import Foundation
import ForwarderCore
import HyperstackForwarder
import HyperstackRPCHost
import LogOutput
import Logging
import SecureFiles

/// Serves JSON-RPC on stdin/stdout until `exit`, end of input, a closed stdout,
/// the parent's death or SIGTERM/SIGINT/SIGHUP (see `HyperstackServer.serveStdio`).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve JSON-RPC 2.0 on stdin/stdout (the default).",
        discussion: """
            What an editor, an agent or a script spawns: it answers on stdout and logs to stderr \
            until exit, end of input or a signal. With --remote auto it forwards to the shared daemon.
            Example: printf '%s\\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}' | hyperstack-rpc serve --sandbox
            """
    )

    @OptionGroup var options: SharedOptions

    func run() async throws {
        try await Self.serve(options.settings, secretFiles: options.secretFiles, remote: RemoteChoice.endpoint(option: options.remote))
    }

    /// Serves until told to stop, then exits the process: through the daemon at `remote`
    /// (as a forwarder), or in this process.
    /// - Parameter secretFiles: `--secrets-dir` and `--allow-secrets-in`; `nil` for the default
    ///   directory, resolved here (also for the daemon, whose environment is not ours).
    static func serve(
        _ settings: Settings, secretFiles: SecretFilePolicy? = nil, protocol sessionProtocol: SessionProtocol = .jsonRPC,
        remote: RemoteEndpoint?
    ) async throws -> Never {
        let logger = try LoggingSetup.bootstrap(level: settings.logLevel ?? .info, file: settings.logFile)
        let secretFiles = secretFiles ?? .standard(environment: Environment.value)
        if let remote {
            Foundation.exit(
                try await Forwarder.serveStdio(
                    settings, endpoint: remote, secretFiles: secretFiles, protocol: sessionProtocol, logger: logger))
        }
        Foundation.exit(
            try await HyperstackServer.serveStdio(settings, secretFiles: secretFiles, protocol: sessionProtocol, logger: logger))
    }
}
