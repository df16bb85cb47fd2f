/// The answer to a list call: the snapshot and whether upstream was asked for it.
public struct ListOutcome: Sendable, Equatable {
    public var snapshot: KeySnapshot
    /// `true` when served from the cache without an upstream request.
    public var fromCache: Bool

    public init(snapshot: KeySnapshot, fromCache: Bool) {
        self.snapshot = snapshot
        self.fromCache = fromCache
    }
}
