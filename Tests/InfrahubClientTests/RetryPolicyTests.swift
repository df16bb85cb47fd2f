import InfrahubWire
import Testing

@testable import InfrahubClient

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, initialBackoff: .seconds(1), maxBackoff: .seconds(10))

    @Test func idempotentCallsRetryEveryTransientFailure() {
        for failure: TransportFailure in [.connectionRefused("x"), .timedOut("x"), .connectionLost("x"), .other("x")] {
            #expect(policy.shouldRetry(.idempotent, after: .transportFailure(failure), attempt: 1))
        }
        for status in [429, 500, 502, 503, 599] {
            #expect(policy.shouldRetry(.idempotent, after: .response(status: status), attempt: 1))
        }
        for status in [400, 401, 403, 404, 409, 422] {
            #expect(!policy.shouldRetry(.idempotent, after: .response(status: status), attempt: 1))
        }
    }

    @Test func generateRetriesOnlyWhenNothingCanHaveHappened() {
        #expect(policy.shouldRetry(.generate, after: .transportFailure(.connectionRefused("x")), attempt: 1))
        #expect(policy.shouldRetry(.generate, after: .response(status: 429), attempt: 1))
        #expect(!policy.shouldRetry(.generate, after: .transportFailure(.timedOut("x")), attempt: 1))
        #expect(!policy.shouldRetry(.generate, after: .transportFailure(.connectionLost("x")), attempt: 1))
        #expect(!policy.shouldRetry(.generate, after: .transportFailure(.other("x")), attempt: 1))
        #expect(!policy.shouldRetry(.generate, after: .response(status: 500), attempt: 1))
        #expect(!policy.shouldRetry(.generate, after: .response(status: 503), attempt: 1))
    }

    @Test func attemptBudgetIsRespected() {
        #expect(policy.shouldRetry(.idempotent, after: .response(status: 503), attempt: 4))
        #expect(!policy.shouldRetry(.idempotent, after: .response(status: 503), attempt: 5))
        let single = RetryPolicy(maxAttempts: 0, initialBackoff: .seconds(1), maxBackoff: .seconds(1))
        #expect(single.maxAttempts == 1)
        #expect(!single.shouldRetry(.idempotent, after: .response(status: 503), attempt: 1))
    }

    @Test func backoffDoublesWithJitterAndCap() {
        #expect(policy.delay(beforeRetry: 1, retryAfter: nil, jitter: 1) == .seconds(1))
        #expect(policy.delay(beforeRetry: 1, retryAfter: nil, jitter: 0) == .milliseconds(500))
        #expect(policy.delay(beforeRetry: 2, retryAfter: nil, jitter: 1) == .seconds(2))
        #expect(policy.delay(beforeRetry: 3, retryAfter: nil, jitter: 1) == .seconds(4))
        #expect(policy.delay(beforeRetry: 5, retryAfter: nil, jitter: 1) == .seconds(10))
        #expect(policy.delay(beforeRetry: 99, retryAfter: nil, jitter: 1) == .seconds(10))
    }

    @Test func retryAfterIsAFloorButCapped() {
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(3), jitter: 1) == .seconds(3))
        #expect(policy.delay(beforeRetry: 3, retryAfter: .seconds(1), jitter: 1) == .seconds(4))
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(60), jitter: 1) == .seconds(10))
    }
}

@Suite("Rate limiter arithmetic")
struct RateLimiterBucketTests {
    @Test func burstThenSteadyRefill() {
        // 120 a minute: a burst of 12, then 108 a minute (one every 5/9 s).
        var bucket = RequestRateLimiter.Bucket(requestsPerMinute: 120, now: 0)
        for _ in 0..<12 { #expect(bucket.reserve(now: 0) == 0) }
        let first = bucket.reserve(now: 0)
        let second = bucket.reserve(now: 0)
        #expect(abs(first - 60.0 / 108) < 1e-9)
        #expect(abs(second - 2 * 60.0 / 108) < 1e-9)
    }

    @Test func noMinuteExceedsTheBudget() {
        var bucket = RequestRateLimiter.Bucket(requestsPerMinute: 500, now: 0)
        var sendTimes: [Double] = []
        var now = 0.0
        // Callers arrive as fast as possible; each sends when its reservation comes due.
        for _ in 0..<2000 {
            let wait = bucket.reserve(now: now)
            sendTimes.append(now + wait)
            now += 0.001
        }
        for (index, start) in sendTimes.enumerated() {
            let inWindow = sendTimes[index...].prefix { $0 < start + 60 }.count
            #expect(inWindow <= 500)
        }
    }

    @Test func cancelledReservationIsReturned() {
        var bucket = RequestRateLimiter.Bucket(requestsPerMinute: 10, now: 0)
        #expect(bucket.reserve(now: 0) == 0)
        #expect(bucket.reserve(now: 0) > 0)
        bucket.giveBack(now: 0)
        #expect(bucket.reserve(now: 0) > 0)
        #expect(bucket.tokens == -1)
    }
}
