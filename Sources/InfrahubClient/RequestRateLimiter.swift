import Locking
import Synchronization

/// Keeps this process under Infrahub's per-minute request budget by making callers wait.
///
/// Upstream answers every request with 429 for the rest of the minute once the budget is
/// spent, so going over is far more costly than waiting a little. This is a token bucket
/// that holds a tenth of the budget (a short burst is free) and refills at the rest of it
/// per minute, so no 60-second window can exceed the budget: burst + refill = budget.
/// Waiting callers reserve their token up front, so they are served in arrival order.
final class RequestRateLimiter: Sendable {
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

        private mutating func refill(now: Double) {
            if now > updatedAt {
                tokens = min(capacity, tokens + (now - updatedAt) * refillPerSecond)
                updatedAt = now
            }
        }
    }

    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let bucket: Lock<Bucket>

    init(requestsPerMinute: Int) {
        origin = clock.now
        bucket = Lock(Bucket(requestsPerMinute: requestsPerMinute, now: 0))
    }

    /// Waits until this caller may send one request.
    ///
    /// Throws `CancellationError` when the calling task is cancelled while waiting; the
    /// reserved token is then handed back for the next caller.
    func acquire() async throws(CancellationError) {
        let now = secondsSinceOrigin()
        let wait = bucket.withLock { $0.reserve(now: now) }
        guard wait > 0 else { return }
        do {
            try await Task.sleep(for: .seconds(wait))
        } catch {
            let now = secondsSinceOrigin()
            bucket.withLock { $0.giveBack(now: now) }
            throw CancellationError()
        }
    }

    private func secondsSinceOrigin() -> Double {
        let elapsed = clock.now - origin
        let parts = elapsed.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
