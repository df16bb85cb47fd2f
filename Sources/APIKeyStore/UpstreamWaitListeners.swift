import InfrahubClient
import Locking
import Synchronization

/// The callers sharing one upstream listing (see `KeyStore.sharedFetch`), each with the
/// `UpstreamWaitReporting` observer it had: the listing runs in a task of its own, so without
/// this only the caller that started it would hear of its waits. A caller is heard from the
/// moment it joins until it has its result.
final class UpstreamWaitListeners: Sendable {
    private struct Table {
        var nextKey: UInt64 = 0
        var observers: [UInt64: UpstreamWaitObserver] = [:]
    }

    private let table = Lock(Table())

    /// Adds the current task's observer, if it has one; pass the key to `remove`.
    func join() -> UInt64? {
        guard let observer = UpstreamWaitReporting.observer else { return nil }
        return table.withLock { table in
            table.nextKey += 1
            table.observers[table.nextKey] = observer
            return table.nextKey
        }
    }

    func remove(_ key: UInt64?) {
        guard let key else { return }
        table.withLock { _ = $0.observers.removeValue(forKey: key) }
    }

    /// Tells every caller still waiting; called outside the lock, so an observer may take its own.
    func report(_ wait: UpstreamWait) {
        let observers = table.withLock { Array($0.observers.values) }
        for observer in observers { observer.hear(wait) }
    }
}
