/// Why the key set changed; the raw value is the `cause` field of `apiKeys.didChange`.
package enum ChangeCause: String, Sendable, Equatable, CaseIterable {
    case generate
    case update
    case delete
    /// A reload (explicit refresh, cache expiry, background poll or a 404 eviction) found a different set.
    case refresh
}
