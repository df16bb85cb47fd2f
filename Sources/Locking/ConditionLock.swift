#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with a condition variable, for the few places where a thread must sleep until
/// another changes guarded state (the frame writer's backlog). It is pthread's own, which
/// ThreadSanitizer sees, and it keeps Foundation's `NSCondition` out of the modules the thin
/// forwarder links.
package final class ConditionLock {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
        // Deadlines are measured on the monotonic clock, as ContinuousClock's are.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        let mutexStatus = pthread_mutex_init(mutex, nil)
        let conditionStatus = pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        precondition(mutexStatus == 0 && conditionStatus == 0, "pthread mutex or condition init failed")
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deinitialize(count: 1)
        condition.deallocate()
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    /// Wakes every thread waiting; call with the lock held.
    package func broadcast() { pthread_cond_broadcast(condition) }

    /// Releases the lock and sleeps until woken (spuriously too), then retakes it.
    package func wait() { pthread_cond_wait(condition, mutex) }

    /// As `wait()`, but gives up at `deadline` (`nil`: never): false when it passed.
    package func wait(until deadline: ContinuousClock.Instant?) -> Bool {
        guard let deadline else {
            wait()
            return true
        }
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return false }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = remaining.components
        var nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var wholeSeconds = Int(now.tv_sec) + Int(min(seconds, Int64(Int32.max)))
        if nanoseconds >= 1_000_000_000 {
            nanoseconds -= 1_000_000_000
            wholeSeconds += 1
        }
        var until = timespec(tv_sec: wholeSeconds, tv_nsec: nanoseconds)
        return pthread_cond_timedwait(condition, mutex, &until) != ETIMEDOUT
    }
}

// Safe: the pthread mutex and condition are made for use from many threads, the pointers
// never change after init, and nothing else is stored.
extension ConditionLock: @unchecked Sendable {}
