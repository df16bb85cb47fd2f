/// How long the key store trusts what it has, and how often it looks upstream on its own.
public struct KeyStoreConfiguration: Sendable {
    /// A snapshot younger than this is served without asking upstream. Zero disables caching.
    public var cacheTTL: Duration
    /// Background refresh interval; `nil` (or zero) means no background polling.
    public var pollInterval: Duration?
    /// Ceiling for the poller's exponential backoff while upstream keeps failing.
    public var maxPollBackoff: Duration

    public init(cacheTTL: Duration = .seconds(30), pollInterval: Duration? = nil, maxPollBackoff: Duration = .seconds(300)) {
        self.cacheTTL = cacheTTL
        self.pollInterval = pollInterval
        self.maxPollBackoff = maxPollBackoff
    }
}
