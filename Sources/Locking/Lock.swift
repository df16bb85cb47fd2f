#if THREAD_SANITIZER
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#else
import Synchronization
#endif

#if !THREAD_SANITIZER
/// The project's mutex: every lock-guarded state in Sources/ and Tests/ uses it.
///
/// It is `Synchronization.Mutex` itself, except in the ThreadSanitizer build
/// (`Tests/Fuzz/sanitizers.sh` compiles with `-DTHREAD_SANITIZER`), where it is a class over a
/// `pthread_mutex_t` with the same `withLock`. On Linux, `Mutex` takes its contended path
/// (`_lockSlow`, `_unlockSlow`) inside the toolchain's uninstrumented library, so
/// ThreadSanitizer misses the happens-before edge it creates and reports a race on the guarded
/// state whenever two threads really meet at the lock. ThreadSanitizer intercepts pthread
/// mutexes, so in that build its reports stay about our code, while shipped builds keep
/// `Mutex`, inlined, on every cached answer.
package typealias Lock<Value> = Mutex<Value>
#else
/// The project's mutex, here a `pthread_mutex_t` for ThreadSanitizer; see the other branch.
package final class Lock<Value> {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var value: Value

    @inlinable
    package init(_ value: consuming sending Value) {
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
    @inlinable
    package func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

// Safe: `value` is only reached inside `withLock`, under the pthread mutex, and it goes in and
// out as `sending`, as with `Mutex`, so no other reference to it can be used unlocked.
extension Lock: @unchecked Sendable {}
#endif
