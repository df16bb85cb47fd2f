import Locking
import Synchronization

/// Something that happens once (a reader done with its descriptor, a session closed by its
/// daemon) and that async code waits for, with or without a deadline. Waiters are resumed
/// by the signal, never by polling.
package final class OneTimeSignal: Sendable {
    private struct State {
        var signalled = false
        var nextWaiter: UInt64 = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Lock(State())

    package init() {}

    /// Marks it happened and resumes every waiter. Idempotent.
    package func signal() {
        let waiters = state.withLock { state in
            state.signalled = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Returns once `signal()` has been called.
    package func wait() async {
        _ = await wait(timeout: nil)
    }

    /// Returns true once signalled, or false when `timeout` passes first.
    @discardableResult
    package func wait(timeout: Duration?) async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = timeout.map { timeout in
            Task { [self] in
                try? await Task.sleep(for: timeout)
                state.withLock { state in
                    state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
                }?.continuation.resume()
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if !state.signalled { state.waiters.append((id, continuation)) }
                return state.signalled
            }
            if now { continuation.resume() }
        }
        timer?.cancel()
        return state.withLock { $0.signalled }
    }
}
