import JSONRPC
import Logging

/// What the command-line options decide, as plain values: what the executable's `SharedOptions`
/// parses to, what a start with no arguments at all uses without running the parser, and all
/// that `HyperstackServer` needs to build a server.
///
/// The option declarations take their defaults from `Settings.defaults`, and both the
/// defaults and `SharedOptions.settings` spell out every field (the initializer has no
/// defaulted parameters), so the two ways of starting cannot drift apart.
package struct Settings: Equatable, Sendable {
    package let sandbox: Bool
    package let sandboxState: String?
    package let baseURL: String?
    package let apiKeyFile: String?
    package let accessTokenFile: String?
    package let cacheTTL: Double
    package let pollInterval: Double
    package let timeout: Double
    package let rateLimit: Int
    package let framing: Framing
    package let maxMessageBytes: Int
    package let maxInFlight: Int
    package let logLevel: Logger.Level?
    package let logFile: String?

    package init(
        sandbox: Bool, sandboxState: String?, baseURL: String?, apiKeyFile: String?, accessTokenFile: String?,
        cacheTTL: Double, pollInterval: Double, timeout: Double, rateLimit: Int, framing: Framing, maxMessageBytes: Int,
        maxInFlight: Int, logLevel: Logger.Level?, logFile: String?
    ) {
        self.sandbox = sandbox
        self.sandboxState = sandboxState
        self.baseURL = baseURL
        self.apiKeyFile = apiKeyFile
        self.accessTokenFile = accessTokenFile
        self.cacheTTL = cacheTTL
        self.pollInterval = pollInterval
        self.timeout = timeout
        self.rateLimit = rateLimit
        self.framing = framing
        self.maxMessageBytes = maxMessageBytes
        self.maxInFlight = maxInFlight
        self.logLevel = logLevel
        self.logFile = logFile
    }

    package static let defaults = Settings(
        sandbox: false, sandboxState: nil, baseURL: nil, apiKeyFile: nil, accessTokenFile: nil, cacheTTL: 30, pollInterval: 0,
        timeout: 30, rateLimit: 500, framing: .auto, maxMessageBytes: ConnectionConfiguration.defaultMaxMessageBytes,
        maxInFlight: ConnectionConfiguration.defaultMaxInFlight, logLevel: nil, logFile: nil)

    /// What the status line and the start-up log call the upstream.
    var upstreamDescription: String { sandbox ? "embedded sandbox" : "http" }
}

extension Duration {
    /// A duration from option seconds, which the option parser has checked are finite and non-negative.
    package init(optionSeconds seconds: Double) {
        self = .nanoseconds(Int64((seconds * 1_000_000_000).rounded()))
    }
}
