/// The answer to a list call: the snapshot and whether upstream was asked for it.
package struct ListOutcome: Sendable, Equatable {
    package var snapshot: KeySnapshot
    /// `true` when served from the cache without an upstream request.
    package var fromCache: Bool

    package init(snapshot: KeySnapshot, fromCache: Bool) {
        self.snapshot = snapshot
        self.fromCache = fromCache
    }
}
