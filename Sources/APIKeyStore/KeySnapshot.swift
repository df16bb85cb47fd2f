import InfrahubWire

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import InfrahubClient

/// An immutable view of the cached key set at one revision.
package struct KeySnapshot: Sendable, Equatable {
    /// Every known key, sorted by id, masked keys only.
    package var keys: [APIKeyRecord]
    /// Monotonic; bumps with every change to `keys`. 0 means nothing is known yet.
    package var revision: Int64
    /// Wall-clock time of the last full listing from upstream (mutations applied since keep it).
    ///
    /// Before the first full listing this is the time the store was created.
    package var fetchedAt: Date {
        didSet { fetchedAtRFC3339 = Self.rfc3339(fetchedAt) }
    }
    /// `fetchedAt` as RFC 3339 in UTC with second precision (`2026-05-06T15:18:42Z`).
    ///
    /// Formatted once when the snapshot is built, so a cache hit costs no date formatting.
    package private(set) var fetchedAtRFC3339: String

    package init(keys: [APIKeyRecord], revision: Int64, fetchedAt: Date) {
        self.keys = keys
        self.revision = revision
        self.fetchedAt = fetchedAt
        self.fetchedAtRFC3339 = Self.rfc3339(fetchedAt)
    }

    private static func rfc3339(_ date: Date) -> String {
        InfrahubTimestamp.format(secondsSinceEpoch: Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}
