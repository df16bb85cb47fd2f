#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The project's mutex, on `pthread_mutex_t`: every lock-guarded state in Sources/ and Tests/
/// uses it instead of `Synchronization.Mutex`.
///
/// Why not `Synchronization.Mutex`: on Linux its contended path (`_lockSlow`, `_unlockSlow`)
/// runs inside the toolchain's uninstrumented library, so ThreadSanitizer misses the
/// happens-before edge it creates and reports a race on the guarded state whenever two
/// threads really meet at the lock. ThreadSanitizer intercepts pthread mutexes, so with this
/// lock its reports stay about our code (the ThreadSanitizer step of `make test` halts on the
/// first report). The cost is a few instructions more per lock.
package final class PThreadMutex<Value> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    package init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed (\(status))")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

// Safe: `value` is only read or written inside `withLock`, under the pthread mutex, and it is
// itself Sendable, so nothing it holds escapes the lock unprotected.
extension PThreadMutex: @unchecked Sendable where Value: Sendable {}
