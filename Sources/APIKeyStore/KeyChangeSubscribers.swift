import Locking
import Synchronization

/// The receivers of a store's key changes, one per subscribed session.
///
/// A server hosts one session per client over one store, and each session must hear every
/// change while it lives and nothing after it stops; a list of receivers with tokens to
/// cancel is that, with no reference from the store back to any session.
final class KeyChangeSubscribers: Sendable {
    private struct Receivers {
        var nextID: UInt64 = 0
        /// In subscription order, so sessions hear a change in the order they subscribed.
        var entries: [(id: UInt64, receive: @Sendable (KeyChange) -> Void)] = []
    }

    private let receivers = Lock(Receivers())

    func add(_ receive: @escaping @Sendable (KeyChange) -> Void) -> KeyChangeSubscription {
        let id = receivers.withLock { receivers in
            receivers.nextID += 1
            receivers.entries.append((receivers.nextID, receive))
            return receivers.nextID
        }
        return KeyChangeSubscription(id: id, subscribers: self)
    }

    func remove(_ id: UInt64) {
        // Handed out of the lock, so the receiver and its captures are released after it, not under it.
        _ = receivers.withLock { receivers in
            receivers.entries.firstIndex { $0.id == id }.map { receivers.entries.remove(at: $0) }
        }
    }

    var count: Int { receivers.withLock { $0.entries.count } }

    /// Calls every receiver, on the caller's thread, outside the lock, so a receiver may
    /// subscribe or cancel without deadlocking.
    func publish(_ change: KeyChange) {
        let current = receivers.withLock { receivers in receivers.entries.map { $0.receive } }
        for receive in current { receive(change) }
    }
}
