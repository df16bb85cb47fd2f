#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import CProcessStartup
import HyperstackSandbox
import LogOutput
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
            outside /v1: GET /_sandbox/stats, POST /_sandbox/faults, POST /_sandbox/reset. They need no \
            authentication, so the sandbox listens on loopback only: a --host that is not a loopback \
            address (127.0.0.0/8, ::1, localhost) is refused unless --allow-remote-control is given.
            With --state, the file is locked for the life of the process; a second process on it is refused.
            Stops cleanly on SIGTERM or SIGINT.
            Example: hyperstack-sandbox --port 8080 --state /tmp/keys.json
            """
    )

    @Option(help: "Address to listen on; loopback only unless --allow-remote-control.")
    var host = "127.0.0.1"

    @Flag(help: "Allow a --host other machines can reach, although the control endpoints (reset, faults) need no authentication.")
    var allowRemoteControl = false

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 0

    @Option(name: .customLong("state"), help: ArgumentHelp("JSON file that keeps the keys across restarts (mode 0600, secrets only as hashes; locked while running).", valueName: "path"))
    var statePath: String?

    @Option(
        name: .customLong("api-key"),
        help: ArgumentHelp("An API key to accept in the api_key header. Repeatable; HYPERSTACK_SANDBOX_API_KEYS adds more, comma-separated.", valueName: "key"))
    var apiKeys: [String] = []

    @Option(
        name: .customLong("access-token"),
        help: ArgumentHelp("An access token to accept as Authorization: Bearer TOKEN, on every route. Repeatable.", valueName: "token"))
    var accessTokens: [String] = []

    @Flag(help: "Emulate the strict reading of Infrahub's OpenAPI document: generate accepts only an access token, and answers an api_key-only request with 401 unauthorized.")
    var generateRequiresAccessToken = false

    @Option(help: "Generate answers 403 once this many keys exist.")
    var maxKeys = 50

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port).") }
        guard maxKeys >= 0 else { throw ValidationError("--max-keys must not be negative, got \(maxKeys).") }
        guard allowRemoteControl || LoopbackAddress.isLoopback(host) else {
            throw ValidationError(
                "--host \(host) is not a loopback address. The control endpoints (/_sandbox/reset, /_sandbox/faults) need no "
                    + "authentication, so anyone who can reach the port could wipe or steer the sandbox. Use --host 127.0.0.1, "
                    + "or pass --allow-remote-control to accept that.")
        }
        guard Logger.Level(rawValue: logLevel.lowercased()) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got \"\(logLevel)\".")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in EscapingLogHandler(label: label, output: .standardError, level: level) }
        let logger = Logger(label: "hyperstack-sandbox")
        if allowRemoteControl && !LoopbackAddress.isLoopback(host) {
            logger.warning("Listening beyond loopback with unauthenticated control endpoints (--allow-remote-control)", metadata: ["host": "\(host)"])
        }

        var keys = apiKeys
        if let fromEnvironment = getenv("HYPERSTACK_SANDBOX_API_KEYS") {
            keys += String(cString: fromEnvironment).split(separator: ",").map(trimmed)
        }
        keys = keys.filter { !$0.isEmpty }
        let tokens = accessTokens.filter { !$0.isEmpty }

        let sandbox: Sandbox
        let stateLock: SandboxStateLock?
        do {
            // Held until the process ends: a second process on the same file is refused.
            stateLock = try statePath.map { try SandboxStateLock(statePath: $0) }
            sandbox = try Sandbox(
                configuration: SandboxConfiguration(
                    apiKeys: keys, accessTokens: tokens, generateRequiresAccessToken: generateRequiresAccessToken,
                    maxKeys: maxKeys, statePath: statePath),
                logger: logger)
        } catch {
            throw StartupError(message: "\(error)")
        }
        if keys.isEmpty, tokens.isEmpty, await sandbox.stats().keyCount == 0 {
            throw StartupError(
                message: "No API key would be accepted: pass --api-key KEY (repeatable) or set HYPERSTACK_SANDBOX_API_KEYS=key1,key2, "
                    + "or pass --access-token TOKEN.")
        }
        if generateRequiresAccessToken && tokens.isEmpty {
            logger.warning("--generate-requires-access-token without --access-token: every generate will be refused with 401")
        }
        logger.info(
            "Starting sandbox",
            metadata: [
                "configuredKeys": "\(keys.count)", "accessTokens": "\(tokens.count)",
                "generateRequiresAccessToken": "\(generateRequiresAccessToken)", "maxKeys": "\(maxKeys)",
                "state": "\(statePath ?? "in memory")",
            ])

        let host = self.host
        let server = SandboxHTTPServer(sandbox: sandbox, host: host, port: port, logger: logger)
        try await server.runUntilSignalled { boundPort in
            writeToStandardOutput("http://\(Self.urlHost(host)):\(boundPort)/v1\n")
        }
        withExtendedLifetime(stateLock) {}
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

/// Which hosts count as loopback for `--host`: 127.0.0.0/8, ::1 (also IPv4-mapped), and
/// the name `localhost`. Any other name is not, whatever it resolves to today.
enum LoopbackAddress {
    static func isLoopback(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            let mapped = bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF
            return mapped && bytes[12] == 127
        }
        return false
    }
}

/// The first thing: the URL line goes to stdout, so a stdout that was closed at start
/// (now /dev/null, see `CProcessStartup`) or is read-only ends the process, non-zero.
func refuseUnusableStandardOutput() {
    let findings = hs_startup_findings()
    guard findings & Int32(HS_STARTUP_STDOUT_CLOSED | HS_STARTUP_STDOUT_NOT_WRITABLE) != 0 else { return }
    if findings & Int32(HS_STARTUP_STDERR_CLOSED) == 0 {
        let message = "hyperstack-sandbox: standard output (fd 1) is closed or not writable, so the base URL cannot be printed; "
            + "start it with stdout connected to a pipe or a file.\n"
        var bytes = Array(message.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            bytes = bytes.dropFirst(written)
        }
    }
    exit(1)
}

/// Runs the command from an async function: in top-level code the compiler picks
/// ArgumentParser's synchronous `main`, which refuses async commands.
func runCommand() async {
    refuseUnusableStandardOutput()
    hs_disarm_crash_reporter()
    await HyperstackSandboxCommand.main(nil)
}

await runCommand()
