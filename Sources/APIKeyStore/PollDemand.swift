import Locking
import Synchronization

/// One session's wish for background polling. A store that many sessions share polls at the
/// shortest interval any of them asks for (`apiKeys.watch` or `--poll-interval`), and stops
/// when none asks any more: when the last demand is withdrawn, cancelled or released.
package final class PollDemand: Sendable {
    private let id: UInt64
    private let store: KeyStore

    init(id: UInt64, store: KeyStore) {
        self.id = id
        self.store = store
    }

    /// Asks for `interval` (`nil` or zero: this session needs no polling) and returns once
    /// the store polls at the interval all demands together call for.
    package func set(_ interval: Duration?) async {
        store.pollDemands.withLock { $0.intervals[id] = interval.flatMap { $0 > .zero ? $0 : nil } }
        await store.applyPollDemands()
    }

    /// Withdraws this demand. Idempotent.
    package func cancel() {
        let removed = store.pollDemands.withLock { $0.intervals.removeValue(forKey: id) != nil }
        guard removed else { return }
        let store = store
        Task { await store.applyPollDemands() }
    }

    deinit { cancel() }
}

/// Every live demand on one store, by demand id.
struct PollDemands: Sendable {
    var nextID: UInt64 = 0
    var intervals: [UInt64: Duration] = [:]
    /// Whether any demand was ever made: a store nobody ever asked stays as configured.
    var everDemanded: Bool { nextID > 0 }
}

extension KeyStore {
    /// A new demand, asking for `initial` (`nil`: none yet); in force shortly after, as
    /// `set` would put it.
    package nonisolated func demandPolling(_ initial: Duration?) -> PollDemand {
        let id = pollDemands.withLock { demands in
            demands.nextID += 1
            demands.intervals[demands.nextID] = initial.flatMap { $0 > .zero ? $0 : nil }
            return demands.nextID
        }
        Task { await self.applyPollDemands() }
        return PollDemand(id: id, store: self)
    }

    /// How many sessions hold a demand, and the interval in force: for the daemon's status.
    package nonisolated var pollDemandCount: Int { pollDemands.withLock { $0.intervals.count } }

    /// Polls at the shortest interval demanded, leaving a running poller alone when that
    /// interval has not changed (so one session's `watch` does not reset the others' timer).
    func applyPollDemands() {
        let (wanted, demanded) = pollDemands.withLock { ($0.intervals.values.min(), $0.everDemanded) }
        guard demanded, wanted != pollInterval else { return }
        setPollInterval(wanted)
    }
}
