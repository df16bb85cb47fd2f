#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import HyperstackSandbox
import Logging
import SandboxHTTPServer

/// `hyperstack-sandbox`: the api-key emulator over HTTP, for clients that talk to a URL.
///
/// The first line on stdout is the base URL (with the port actually bound), so a test
/// harness can start it with `--port 0` and read where to connect; everything else
/// goes to stderr.
struct HyperstackSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hyperstack-sandbox",
        abstract: "Emulates the Hyperstack Infrahub api-key endpoints over HTTP.",
        discussion: """
            Prints its base URL (http://HOST:PORT/v1) as the first line on stdout. Control endpoints,
            outside /v1: GET /_sandbox/stats, POST /_sandbox/faults, POST /_sandbox/reset.
            Stops cleanly on SIGTERM or SIGINT.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 0

    @Option(name: .customLong("state"), help: ArgumentHelp("JSON file that keeps the keys across restarts (secrets only as hashes).", valueName: "path"))
    var statePath: String?

    @Option(
        name: .customLong("api-key"),
        help: ArgumentHelp("An API key to accept in the api_key header. Repeatable; HYPERSTACK_SANDBOX_API_KEYS adds more, comma-separated.", valueName: "key"))
    var apiKeys: [String] = []

    @Option(help: "Generate answers 403 once this many keys exist.")
    var maxKeys = 50

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port).") }
        guard maxKeys >= 0 else { throw ValidationError("--max-keys must not be negative, got \(maxKeys).") }
        guard Logger.Level(rawValue: logLevel.lowercased()) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got \"\(logLevel)\".")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "hyperstack-sandbox")

        var keys = apiKeys
        if let fromEnvironment = getenv("HYPERSTACK_SANDBOX_API_KEYS") {
            keys += String(cString: fromEnvironment).split(separator: ",").map(trimmed)
        }
        keys = keys.filter { !$0.isEmpty }

        let sandbox: Sandbox
        do {
            sandbox = try Sandbox(
                configuration: SandboxConfiguration(apiKeys: keys, maxKeys: maxKeys, statePath: statePath), logger: logger)
        } catch {
            throw StartupError(message: "\(error)")
        }
        if keys.isEmpty, await sandbox.stats().keyCount == 0 {
            throw StartupError(
                message: "No API key would be accepted: pass --api-key KEY (repeatable) or set HYPERSTACK_SANDBOX_API_KEYS=key1,key2.")
        }
        logger.info(
            "Starting sandbox",
            metadata: ["configuredKeys": "\(keys.count)", "maxKeys": "\(maxKeys)", "state": "\(statePath ?? "in memory")"])

        let host = self.host
        let server = SandboxHTTPServer(sandbox: sandbox, host: host, port: port, logger: logger)
        try await server.runUntilSignalled { boundPort in
            writeToStandardOutput("http://\(Self.urlHost(host)):\(boundPort)/v1\n")
        }
    }

    private static func urlHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }
}

/// Why the sandbox could not start; ArgumentParser prints it to stderr and exits 1.
struct StartupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Writes straight to fd 1, unbuffered, so the URL line is visible to a reading parent
/// at once (stdout to a pipe is otherwise block-buffered).
func writeToStandardOutput(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        bytes = bytes.dropFirst(written)
    }
}

/// `" k1 "` → `"k1"`: keys from the environment are often written with spaces after commas.
func trimmed(_ text: Substring) -> String {
    String(text.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
}

/// Runs the command from an async function: in top-level code the compiler picks
/// ArgumentParser's synchronous `main`, which refuses async commands.
func runCommand() async {
    await HyperstackSandboxCommand.main(nil)
}

await runCommand()
