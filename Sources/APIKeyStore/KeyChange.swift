import InfrahubClient

/// One applied change to the cached key set, carrying exactly what `apiKeys.didChange` needs.
///
/// Records are the masked forms only; a change never carries a generated secret.
package struct KeyChange: Sendable, Equatable {
    /// The revision the set has after this change; the mutation that caused it returns the same number.
    package var revision: Int64
    package var cause: ChangeCause
    /// Keys that were not in the set before, sorted by id.
    package var added: [APIKeyRecord]
    /// Keys whose name, description, creation time or masked key changed, sorted by id.
    package var updated: [APIKeyRecord]
    /// Ids that left the set, ascending.
    package var removed: [Int64]

    package init(revision: Int64, cause: ChangeCause, added: [APIKeyRecord] = [], updated: [APIKeyRecord] = [], removed: [Int64] = []) {
        self.revision = revision
        self.cause = cause
        self.added = added
        self.updated = updated
        self.removed = removed
    }
}
