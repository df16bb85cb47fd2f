#if canImport(FoundationEssentials)
import FoundationEssentials
import Locking
#else
import Foundation
#endif
import InfrahubClient
import Logging
import Synchronization

/// The cached view of the account's API keys, between the JSON-RPC server and Infrahub.
///
/// The actor is the single writer. Every change to the set is built in full, swapped in, published
/// to a lock-protected copy and announced to every subscriber (see `subscribe(_:)`) before the
/// call that caused it returns, so a failed upstream call never leaves half-applied state and a notification always
/// precedes the response carrying the same revision. Cache hits read the published copy and never
/// enter the actor (see `cachedList(maxAge:)`).
///
/// Races between a listing and a mutation: a listing records the mutation counter before its
/// `GET`; if a mutation (or a 404 eviction) was applied while the `GET` was in flight, the fetched
/// set may predate it, so it is discarded and the store lists once more. If a mutation lands
/// during that second `GET` too, the caller gets the current local set (mutations applied, marked
/// `fromCache`) and the cache's freshness is left as it was, so a later list fetches again.
package actor KeyStore {
    /// What a cache hit needs, readable without entering the actor.
    struct Published: Sendable {
        var snapshot: KeySnapshot
        /// When the set was last listed in full; `nil` while it must be listed before serving.
        var loadedAt: ContinuousClock.Instant?
    }

    let client: InfrahubAPIClient
    let cacheTTL: Duration
    let maxPollBackoff: Duration
    let revisionBase: Int64
    let logger: Logger
    /// The sessions listening for changes; see `subscribe(_:)`.
    nonisolated let subscribers = KeyChangeSubscribers()
    /// The sessions' polling demands; see `PollDemand`.
    nonisolated let pollDemands = Lock(PollDemands())
    /// Written only by the actor, after `snapshot`/`loadedAt` change; read by `cachedList`.
    let published: Lock<Published>

    var snapshot: KeySnapshot
    var loadedAt: ContinuousClock.Instant?
    /// Whether a full listing ever succeeded; until then the set only holds what mutations returned.
    var hasLoaded = false
    /// Bumped by every local change that did not come from a full listing.
    var mutationCount: UInt64 = 0
    /// The one upstream listing that concurrent callers share.
    var inFlightFetch: Task<Result<ListOutcome, InfrahubError>, Never>?
    /// Its callers, who each hear of the waits it makes on upstream's backoff.
    var inFlightFetchListeners: UpstreamWaitListeners?
    /// The ids upstream last listed more than once, so the same duplicates are logged once, not per listing.
    var reportedDuplicateIDs: [Int64] = []

    var pollInterval: Duration?
    var poller: Task<Void, Never>?
    /// Identifies the current poller, so a replaced one cannot touch the backoff state.
    var pollGeneration: UInt64 = 0
    var consecutivePollFailures = 0
    var isShutDown = false

    package init(
        client: InfrahubAPIClient,
        configuration: KeyStoreConfiguration = KeyStoreConfiguration(),
        logger: Logger
    ) {
        self.client = client
        self.cacheTTL = configuration.cacheTTL
        self.maxPollBackoff = configuration.maxPollBackoff
        self.revisionBase = configuration.revisionBase
        self.logger = logger
        let initial = KeySnapshot(keys: [], revision: configuration.revisionBase, fetchedAt: Date())
        self.snapshot = initial
        self.published = Lock(Published(snapshot: initial, loadedAt: nil))
        if let interval = configuration.pollInterval, interval > .zero {
            self.pollInterval = interval
            // A synchronous actor initialiser cannot store a task that captures `self`, so the
            // configured poller starts on the actor, unless setPollInterval/shutdown came first.
            Task { [weak self] in await self?.startConfiguredPoller(interval: interval) }
        }
    }

    deinit {
        poller?.cancel()
    }

    // MARK: Subscribing

    /// Calls `receive` with every change from now until the returned subscription is cancelled.
    ///
    /// `receive` runs on the actor, synchronously, as each change is applied and before the call
    /// that caused it returns: that is what puts a session's `apiKeys.didChange` ahead of the
    /// response that shares its revision. It must not block; enqueue and return.
    package nonisolated func subscribe(_ receive: @escaping @Sendable (KeyChange) -> Void) -> KeyChangeSubscription {
        subscribers.add(receive)
    }

    // MARK: Reading

    /// The key set as last published, without entering the actor: for status reports.
    package nonisolated var publishedSnapshot: KeySnapshot { published.withLock { $0.snapshot } }

    /// The cached answer if it is younger than the TTL and than `maxAge`, else `nil`.
    ///
    /// Never enters the actor: this is the hot path the server takes for most lists.
    package nonisolated func cachedList(maxAge: Duration? = nil) -> ListOutcome? {
        let entry = published.withLock { $0 }
        guard let loadedAt = entry.loadedAt else { return nil }
        let age = loadedAt.duration(to: .now)
        guard age < cacheTTL else { return nil }
        if let maxAge, age >= maxAge { return nil }
        return ListOutcome(snapshot: entry.snapshot, fromCache: true)
    }

    /// How much longer the published key set counts as fresh: zero once it is older than the
    /// TTL, or before the first listing. A client may reuse an answer built from it this long.
    package nonisolated var remainingFreshness: Duration {
        guard let loadedAt = published.withLock({ $0.loadedAt }) else { return .zero }
        return max(.zero, cacheTTL - loadedAt.duration(to: .now))
    }

    /// The key set, from the cache when it is young enough, else from one upstream listing shared
    /// by every concurrent caller.
    ///
    /// - Parameters:
    ///   - refresh: Skip the cache and list upstream (joining a listing already in flight).
    ///   - maxAge: The oldest cached answer the caller accepts; zero always lists upstream.
    package nonisolated(nonsending) func list(refresh: Bool = false, maxAge: Duration? = nil) async throws(InfrahubError) -> ListOutcome {
        if !refresh, let hit = cachedList(maxAge: maxAge) { return hit }
        return try await listThroughActor(refresh: refresh, maxAge: maxAge)
    }

    private func listThroughActor(refresh: Bool, maxAge: Duration?) async throws(InfrahubError) -> ListOutcome {
        // Another caller's listing may have finished while this one waited for the actor.
        if !refresh, let hit = cachedList(maxAge: maxAge) { return hit }
        return try await sharedFetch().get()
    }

    /// Joins the listing in flight or starts one. The listing runs in its own task, so a cancelled
    /// caller does not cancel it for the others. Every caller with an `UpstreamWaitReporting`
    /// observer hears of the listing's waits while it waits for the result.
    func sharedFetch() async -> Result<ListOutcome, InfrahubError> {
        if let running = inFlightFetch, let listeners = inFlightFetchListeners {
            let key = listeners.join()
            defer { listeners.remove(key) }
            return await running.value
        }
        let listeners = UpstreamWaitListeners()
        let key = listeners.join()
        defer { listeners.remove(key) }
        let task = Task {
            await UpstreamWaitReporting.$observer.withValue(UpstreamWaitObserver { listeners.report($0) }) {
                await self.fetchAndInstall()
            }
        }
        inFlightFetch = task
        inFlightFetchListeners = listeners
        return await task.value
    }

    private func fetchAndInstall() async -> Result<ListOutcome, InfrahubError> {
        defer {
            inFlightFetch = nil
            inFlightFetchListeners = nil
        }
        for attempt in 1...2 {
            let mutationsBefore = mutationCount
            let listed: [APIKeyRecord]
            do throws(InfrahubError) {
                listed = try await client.listKeys()
            } catch {
                logger.debug("Listing API keys failed", metadata: ["error": "\(error.message)"])
                return .failure(error)
            }
            if mutationCount == mutationsBefore {
                install(listed)
                return .success(ListOutcome(snapshot: snapshot, fromCache: false))
            }
            logger.debug("A key changed while listing; the listing may predate it", metadata: ["attempt": "\(attempt)"])
        }
        return .success(ListOutcome(snapshot: snapshot, fromCache: true))
    }

    /// Installs a full listing as fresh; the first listing of an untouched store is silent.
    private func install(_ listed: [APIKeyRecord]) {
        let keys = KeySetDiff.normalised(listed)
        reportDuplicates(keys.count == listed.count ? [] : KeySetDiff.duplicateIDs(in: listed))
        var next = snapshot
        next.keys = keys
        next.fetchedAt = Date()
        var change: KeyChange?
        if !hasLoaded && snapshot.revision == revisionBase {
            next.revision = revisionBase + 1
        } else {
            let diff = KeySetDiff(from: snapshot.keys, to: keys)
            if !diff.isEmpty {
                next.revision += 1
                change = KeyChange(revision: next.revision, cause: .refresh, added: diff.added, updated: diff.updated, removed: diff.removed)
            }
        }
        hasLoaded = true
        commit(next, loadedAt: .now, change: change)
    }

    /// Upstream should never list an id twice; when it does, the last entry wins (see
    /// `KeySetDiff.normalised`) and a warning names the ids, never the entries, which would
    /// carry upstream's text into the log.
    private func reportDuplicates(_ ids: [Int64]) {
        guard ids != reportedDuplicateIDs else { return }
        reportedDuplicateIDs = ids
        guard !ids.isEmpty else { return }
        let shown = ids.prefix(20).map(String.init).joined(separator: ",") + (ids.count > 20 ? ",..." : "")
        logger.warning(
            "Infrahub listed duplicate key ids; the last entry of each is kept",
            metadata: ["ids": "\(shown)", "count": "\(ids.count)"])
    }

    // MARK: Mutations

    /// Creates a key upstream and adds it (masked) to the set.
    ///
    /// The returned key carries the secret for the caller to show once; the store keeps only the
    /// masked form. Subscribers have already heard of the returned revision.
    package func generate(name: String, description: String?) async throws(InfrahubError) -> (key: GeneratedAPIKey, revision: Int64) {
        let generated = try await client.generateKey(name: name, description: description)
        let record = SecretMasking.storableRecord(for: generated)
        var next = snapshot
        Self.upsert(record, into: &next.keys)
        next.revision += 1
        mutationCount += 1
        commit(next, loadedAt: loadedAt, change: KeyChange(revision: next.revision, cause: .generate, added: [record]))
        return (GeneratedAPIKey(record: record, secret: generated.secret), next.revision)
    }

    /// Renames a key upstream, keeps, clears or replaces its description, and replaces it in the set.
    ///
    /// A 404 also evicts `id` from the set (announced with cause `refresh`) before rethrowing.
    package func update(id: Int64, name: String, description: DescriptionUpdate) async throws(InfrahubError) -> (key: APIKeyRecord, revision: Int64) {
        let record: APIKeyRecord
        do throws(InfrahubError) {
            record = try await client.updateKey(id: id, name: name, description: description)
        } catch {
            evictIfNotFound(id: id, error: error)
            throw error
        }
        var next = snapshot
        Self.upsert(record, into: &next.keys)
        next.revision += 1
        mutationCount += 1
        commit(next, loadedAt: loadedAt, change: KeyChange(revision: next.revision, cause: .update, updated: [record]))
        return (record, next.revision)
    }

    /// Deletes a key upstream and removes it from the set; returns the new revision.
    ///
    /// A 404 also evicts `id` from the set (announced with cause `refresh`) before rethrowing.
    package func delete(id: Int64) async throws(InfrahubError) -> Int64 {
        do throws(InfrahubError) {
            try await client.deleteKey(id: id)
        } catch {
            evictIfNotFound(id: id, error: error)
            throw error
        }
        var next = snapshot
        next.keys.removeAll { $0.id == id }
        next.revision += 1
        mutationCount += 1
        commit(next, loadedAt: loadedAt, change: KeyChange(revision: next.revision, cause: .delete, removed: [id]))
        return next.revision
    }

    /// Upstream says `id` is gone, so the set must not keep offering it.
    private func evictIfNotFound(id: Int64, error: InfrahubError) {
        guard error.kind == .notFound, snapshot.keys.contains(where: { $0.id == id }) else { return }
        var next = snapshot
        next.keys.removeAll { $0.id == id }
        next.revision += 1
        mutationCount += 1
        logger.debug("Dropped a key upstream no longer knows", metadata: ["id": "\(id)"])
        commit(next, loadedAt: loadedAt, change: KeyChange(revision: next.revision, cause: .refresh, removed: [id]))
    }

    private static func upsert(_ record: APIKeyRecord, into keys: inout [APIKeyRecord]) {
        let index = keys.firstIndex { $0.id >= record.id } ?? keys.endIndex
        if index < keys.endIndex && keys[index].id == record.id {
            keys[index] = record
        } else {
            keys.insert(record, at: index)
        }
    }

    /// The single place state changes: swap, publish for the fast path, then announce.
    private func commit(_ next: KeySnapshot, loadedAt: ContinuousClock.Instant?, change: KeyChange?) {
        snapshot = next
        self.loadedAt = loadedAt
        published.withLock { $0 = Published(snapshot: next, loadedAt: loadedAt) }
        if let change {
            logger.debug(
                "API key set changed",
                metadata: [
                    "revision": "\(change.revision)", "cause": "\(change.cause.rawValue)",
                    "added": "\(change.added.count)", "updated": "\(change.updated.count)", "removed": "\(change.removed.count)",
                ])
            subscribers.publish(change)
        }
    }
}
