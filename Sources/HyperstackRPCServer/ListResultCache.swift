import APIKeyStore
import JanssonJSON
import Locking
import Synchronization

/// The serialised `apiKeys.list` result for the latest snapshot.
///
/// The result only changes when the revision, the fetch time or `fromCache` does, so
/// a warm cache answers by splicing these bytes into the response envelope: no
/// rebuilding and re-serialising twenty keys on every call.
final class ListResultCache: Sendable {
    private struct Entry {
        var revision: Int64
        var fetchedAt: String
        var fromCache: Bool
        var bytes: [UInt8]
    }

    private let entry = Lock<Entry?>(nil)

    /// The serialised result for `outcome`, built at most once per distinct outcome.
    func serializedResult(for outcome: ListOutcome) throws -> [UInt8] {
        let snapshot = outcome.snapshot
        let hit = entry.withLock { entry -> [UInt8]? in
            guard let entry, entry.revision == snapshot.revision, entry.fromCache == outcome.fromCache,
                entry.fetchedAt == snapshot.fetchedAtRFC3339
            else { return nil }
            return entry.bytes
        }
        if let hit { return hit }
        let bytes = try Self.json(for: outcome).serialized()
        entry.withLock {
            $0 = Entry(
                revision: snapshot.revision, fetchedAt: snapshot.fetchedAtRFC3339,
                fromCache: outcome.fromCache, bytes: bytes)
        }
        return bytes
    }

    /// `{keys, revision, fetchedAt, fromCache}`.
    static func json(for outcome: ListOutcome) -> JSON {
        [
            "keys": .array(outcome.snapshot.keys.map(APIKeyEncoding.json)),
            "revision": .int(outcome.snapshot.revision),
            "fetchedAt": .string(outcome.snapshot.fetchedAtRFC3339),
            "fromCache": .bool(outcome.fromCache),
        ]
    }
}
