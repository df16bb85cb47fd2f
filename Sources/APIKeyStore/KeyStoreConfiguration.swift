/// How long the key store trusts what it has, and how often it looks upstream on its own.
package struct KeyStoreConfiguration: Sendable {
    /// A snapshot younger than this is served without asking upstream. Zero disables caching.
    package var cacheTTL: Duration
    /// Background refresh interval; `nil` (or zero) means no background polling.
    package var pollInterval: Duration?
    /// Ceiling for the poller's exponential backoff while upstream keeps failing.
    package var maxPollBackoff: Duration
    /// The revision before anything is known; the first listing is this plus one. A store
    /// that replaces another for the same clients (a restarted daemon) starts above any
    /// revision the old one can have reached, so their revisions never go back.
    package var revisionBase: Int64

    package init(
        cacheTTL: Duration = .seconds(30), pollInterval: Duration? = nil, maxPollBackoff: Duration = .seconds(300),
        revisionBase: Int64 = 0
    ) {
        self.cacheTTL = cacheTTL
        self.pollInterval = pollInterval
        self.maxPollBackoff = maxPollBackoff
        self.revisionBase = revisionBase
    }
}
