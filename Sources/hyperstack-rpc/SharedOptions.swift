import ArgumentParser
import ForwarderCore
import HyperstackForwarder
import HyperstackRPCHost
import HyperstackRPCServer
import JSONRPC
import Logging
import SecureFiles

/// Options that both serving and one-shot calls take.
struct SharedOptions: ParsableArguments {
    @Flag(help: "Use the embedded in-process sandbox instead of the real API (needs no API key).")
    var sandbox = Settings.defaults.sandbox

    @Option(help: ArgumentHelp("Persist the embedded sandbox's keys in this file (mode 0600, secrets hashed). Locked while in use: a second server on it is refused, call waits up to 10 s.", valueName: "path"))
    var sandboxState: String?

    @Option(help: ArgumentHelp("Infrahub API base URL (default: $HYPERSTACK_API_URL or https://infrahub-api.nexgencloud.com/v1).", valueName: "url"))
    var baseURL: String?

    @Option(help: ArgumentHelp("Read the API key from this file instead of $HYPERSTACK_API_KEY.", valueName: "path"))
    var apiKeyFile: String?

    @Option(help: ArgumentHelp("Read an access token (sent as Authorization: Bearer; generate uses it) from this file instead of $HYPERSTACK_ACCESS_TOKEN.", valueName: "path"))
    var accessTokenFile: String?

    @Option(help: ArgumentHelp("Serve apiKeys.list from cache for this many seconds.", valueName: "seconds"))
    var cacheTTL: Double = Settings.defaults.cacheTTL

    @Option(help: ArgumentHelp("Poll upstream for changes made elsewhere every this many seconds (0: off).", valueName: "seconds"))
    var pollInterval: Double = Settings.defaults.pollInterval

    @Option(help: ArgumentHelp("Upstream request timeout in seconds; connecting may take at most 10 s of it.", valueName: "seconds"))
    var timeout: Double = Settings.defaults.timeout

    @Option(help: ArgumentHelp("Most upstream requests per minute from this process (Infrahub allows 500 per source IP).", valueName: "count"))
    var rateLimit: Int = Settings.defaults.rateLimit

    @Option(help: "Framing of stdin/stdout: auto, lsp or ndjson.")
    var framing: Framing = Settings.defaults.framing

    @Option(help: ArgumentHelp("Largest message accepted, in bytes.", valueName: "bytes"))
    var maxMessageBytes: Int = Settings.defaults.maxMessageBytes

    @Option(help: ArgumentHelp("Most requests at work at once; beyond it, new ones are answered at once with -32802 (busy, retry later).", valueName: "count"))
    var maxInFlight: Int = Settings.defaults.maxInFlight

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (default: info when serving, warning for call).")
    var logLevel: Logger.Level?

    @Option(help: ArgumentHelp("Append logs to this file (mode 0600) instead of stderr.", valueName: "path"))
    var logFile: String?

    @Option(help: ArgumentHelp("Work through the shared per-user daemon: auto (start it if needed), unix:PATH (that socket only) or off (default: $HYPERSTACK_RPC_REMOTE, else off).", valueName: "auto|unix:PATH|off"))
    var remote: String?

    @Option(help: ArgumentHelp("Write generated secrets (apiKeys.generate's secretFile, MCP's generate_api_key) into this directory, created 0700 (default: $XDG_STATE_HOME/hyperstack-rpc/secrets, else ~/.local/state/hyperstack-rpc/secrets).", valueName: "dir"))
    var secretsDir: String?

    @Option(help: ArgumentHelp("Also allow an absolute secretFile under this directory (repeatable).", valueName: "dir"))
    var allowSecretsIn: [String] = []

    /// `--secrets-dir` and `--allow-secrets-in`, relative paths taken from the current directory.
    var secretFiles: SecretFilePolicy {
        SecretFilePolicy(
            secretsDirectory: secretsDir ?? SecretFilePolicy.defaultSecretsDirectory(environment: Environment.value),
            allowedDirectories: allowSecretsIn)
    }

    /// The parsed values.
    var settings: Settings {
        Settings(
            sandbox: sandbox, sandboxState: sandboxState, baseURL: baseURL, apiKeyFile: apiKeyFile, accessTokenFile: accessTokenFile,
            cacheTTL: cacheTTL,
            pollInterval: pollInterval, timeout: timeout, rateLimit: rateLimit, framing: framing,
            maxMessageBytes: maxMessageBytes, maxInFlight: maxInFlight, logLevel: logLevel, logFile: logFile)
    }

    mutating func validate() throws {
        guard cacheTTL >= 0, cacheTTL.isFinite else { throw ValidationError("--cache-ttl must be zero or more seconds") }
        guard pollInterval == 0 || (pollInterval >= APIKeyMethods.minimumPollInterval && pollInterval.isFinite) else {
            throw ValidationError("--poll-interval must be 0 (off) or at least \(APIKeyMethods.minimumPollInterval) seconds")
        }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be more than zero seconds") }
        guard rateLimit >= 1 else { throw ValidationError("--rate-limit must be at least 1 request per minute") }
        guard maxMessageBytes >= 1024 else { throw ValidationError("--max-message-bytes must be at least 1024") }
        guard maxInFlight >= 1 else { throw ValidationError("--max-in-flight must be at least 1 request") }
        if sandboxState != nil && !sandbox { throw ValidationError("--sandbox-state needs --sandbox") }
        if secretsDir?.isEmpty == true || allowSecretsIn.contains(where: \.isEmpty) {
            throw ValidationError("--secrets-dir and --allow-secrets-in need a directory")
        }
        if let remote {
            do {
                _ = try RemoteEndpoint.parse(remote, fingerprint: "", environment: { _ in nil })
            } catch {
                throw ValidationError(error.description)
            }
        }
    }
}

/// `--framing` takes the connection's own `Framing` values.
extension Framing: ExpressibleByArgument {
    // Spelled out: ArgumentParser's defaults describe each case with `String(describing:)`,
    // which goes through runtime reflection and costs about a millisecond at every start.
    package static var allValueStrings: [String] { allCases.map(\.rawValue) }
    package static var allValueDescriptions: [String: String] { [:] }
    package var defaultValueDescription: String { rawValue }
}

extension Logger.Level: @retroactive ExpressibleByArgument {
    // As for `Framing`: the raw values, without reflection. `public`, not `package`: they witness a
    // public protocol on a public type of swift-log.
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public static var allValueDescriptions: [String: String] { [:] }
    public var defaultValueDescription: String { rawValue }
}
