import JSONRPC
import Logging

/// What the command-line options decide, as plain values: what `SharedOptions` parses to,
/// and what a start with no arguments at all uses without running the parser.
///
/// The option declarations take their defaults from `Settings.defaults`, and both the
/// defaults and `SharedOptions.settings` spell out every field (there is no defaulted
/// initializer), so the two ways of starting cannot drift apart.
struct Settings: Equatable, Sendable {
    let sandbox: Bool
    let sandboxState: String?
    let baseURL: String?
    let apiKeyFile: String?
    let cacheTTL: Double
    let pollInterval: Double
    let timeout: Double
    let rateLimit: Int
    let framing: Framing
    let maxMessageBytes: Int
    let maxInFlight: Int
    let logLevel: Logger.Level?
    let logFile: String?

    static let defaults = Settings(
        sandbox: false, sandboxState: nil, baseURL: nil, apiKeyFile: nil, cacheTTL: 30, pollInterval: 0,
        timeout: 30, rateLimit: 500, framing: .auto, maxMessageBytes: ConnectionConfiguration.defaultMaxMessageBytes,
        maxInFlight: ConnectionConfiguration.defaultMaxInFlight, logLevel: nil, logFile: nil)
}
