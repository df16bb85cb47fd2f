import DequeModule
import Locking
import Synchronization

/// Keeps this process under Infrahub's per-minute request budget by making callers wait.
///
/// Upstream answers every request with 429 for the rest of the minute once the budget is
/// spent, so going over is far more costly than waiting a little. This is a token bucket
/// that holds a tenth of the budget (a short burst is free) and refills at the rest of it
/// per minute, so no 60-second window can exceed the budget: burst + refill = budget.
/// Waiting callers reserve their token up front, so they are served in arrival order.
///
/// A process has one per upstream host, shared by every client of that host in it (the
/// daemon's sessions included), since the budget belongs to the source address.
package final class RequestRateLimiter: Sendable {
    /// The bucket arithmetic, separated from the clock so it can be checked without waiting.
    struct Bucket: Sendable, Equatable {
        let capacity: Double
        /// Tokens added per second.
        let refillPerSecond: Double
        /// May go negative: each waiting caller owes one token.
        private(set) var tokens: Double
        private(set) var updatedAt: Double

        init(requestsPerMinute: Int, now: Double) {
            let budget = max(1, requestsPerMinute)
            let burst = max(1, budget / 10)
            capacity = Double(burst)
            refillPerSecond = Double(max(1, budget - burst)) / 60
            tokens = capacity
            updatedAt = now
        }

        /// Takes one token and returns how many seconds the caller must wait before using it.
        mutating func reserve(now: Double) -> Double {
            refill(now: now)
            tokens -= 1
            return tokens >= 0 ? 0 : -tokens / refillPerSecond
        }

        /// Returns a reserved token whose caller gave up waiting.
        mutating func giveBack(now: Double) {
            refill(now: now)
            tokens = min(capacity, tokens + 1)
        }

        /// The tokens there would be at `now`, without taking any.
        func tokens(at now: Double) -> Double {
            var copy = self
            copy.refill(now: now)
            return copy.tokens
        }

        mutating func setTokens(_ value: Double) {
            tokens = value
        }

        private mutating func refill(now: Double) {
            if now > updatedAt {
                tokens = min(capacity, tokens + (now - updatedAt) * refillPerSecond)
                updatedAt = now
            }
        }
    }

    /// What the lock guards: the bucket, a pause after a 429, and when recent requests went out.
    private struct State: Sendable {
        var bucket: Bucket
        var budget: Int
        /// No request leaves before this (seconds since origin), however many tokens there are.
        var pausedUntil: Double = 0
        /// Send times of the last minute, oldest first, for `usedLastMinute`.
        var recent = Deque<Double>()
        /// Every request let through since the limiter was made.
        var total = 0

        mutating func forget(before cutoff: Double) {
            while let first = recent.first, first <= cutoff { recent.removeFirst() }
        }
    }

    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let state: Lock<State>

    package init(requestsPerMinute: Int) {
        origin = clock.now
        state = Lock(State(bucket: Bucket(requestsPerMinute: requestsPerMinute, now: 0), budget: max(1, requestsPerMinute)))
    }

    /// The budget per minute in force.
    package var budget: Int { state.withLock { $0.budget } }

    /// Requests let through since the limiter was made.
    package var requestCount: Int { state.withLock { $0.total } }

    /// Requests that went out in the last 60 seconds.
    package var usedLastMinute: Int {
        let now = secondsSinceOrigin()
        return state.withLock { state in
            state.forget(before: now - 60)
            return state.recent.count
        }
    }

    /// Lowers the budget to `requestsPerMinute` if that is smaller: when clients that share
    /// this limiter ask for different budgets, the strictest one holds for all of them.
    package func lowerBudget(to requestsPerMinute: Int) {
        let now = secondsSinceOrigin()
        state.withLock { state in
            guard requestsPerMinute < state.budget else { return }
            let lowered = Bucket(requestsPerMinute: requestsPerMinute, now: now)
            let tokens = min(lowered.capacity, state.bucket.tokens(at: now))
            state.budget = max(1, requestsPerMinute)
            state.bucket = lowered
            state.bucket.setTokens(tokens)
        }
    }

    /// Holds every caller back for `duration`: upstream said 429 with a Retry-After, and
    /// the limit it enforces is per source address, so it applies to every client here.
    package func pause(for duration: Duration) {
        let until = secondsSinceOrigin() + duration.secondsValue
        state.withLock { $0.pausedUntil = max($0.pausedUntil, until) }
    }

    /// Waits until this caller may send one request, telling `UpstreamWaitReporting`'s
    /// observer of a pause after a 429 and of a noticeable wait for the budget.
    ///
    /// Throws `CancellationError` when the calling task is cancelled while waiting; the
    /// reserved token is then handed back for the next caller.
    func acquire() async throws(CancellationError) {
        while true {
            let now = secondsSinceOrigin()
            let pause = state.withLock { $0.pausedUntil - now }
            if pause > 0 {
                // The caller whose 429 set the pause has reported its retry's wait already, and
                // wakes at its end: only a noticeable remainder is news.
                if pause >= Self.reportedWait {
                    UpstreamWaitReporting.report(UpstreamWait(cause: .sharedPause, delay: .seconds(pause)))
                }
                do { try await Task.sleep(for: .seconds(pause)) } catch { throw CancellationError() }
                continue
            }
            break
        }
        let now = secondsSinceOrigin()
        let wait = state.withLock { state in
            let wait = state.bucket.reserve(now: now)
            state.forget(before: now - 60)
            state.recent.append(now + wait)
            state.total += 1
            return wait
        }
        guard wait > 0 else { return }
        // Short waits are the bucket's ordinary pacing; only a noticeable one is worth telling.
        if wait >= Self.reportedWait {
            UpstreamWaitReporting.report(UpstreamWait(cause: .requestBudget, delay: .seconds(wait)))
        }
        do {
            try await Task.sleep(for: .seconds(wait))
        } catch {
            let now = secondsSinceOrigin()
            state.withLock { state in
                state.bucket.giveBack(now: now)
                if let index = state.recent.lastIndex(where: { $0 > now }) { state.recent.remove(at: index) }
                state.total -= 1
            }
            throw CancellationError()
        }
    }

    /// Seconds of waiting from which a wait is reported (see `UpstreamWait`).
    static let reportedWait = 0.5

    private func secondsSinceOrigin() -> Double {
        (clock.now - origin).secondsValue
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`: for arithmetic on a clock, log metadata, status.
    package var secondsValue: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
