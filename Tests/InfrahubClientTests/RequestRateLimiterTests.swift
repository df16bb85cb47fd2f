import Testing
@testable import InfrahubClient

/// The limiter that every client of one upstream host shares.
@Suite struct RequestRateLimiterTests {
    @Test func theStrictestBudgetHoldsAndItNeverRisesAgain() {
        let limiter = RequestRateLimiter(requestsPerMinute: 500)
        limiter.lowerBudget(to: 120)
        #expect(limiter.budget == 120)
        limiter.lowerBudget(to: 300)
        #expect(limiter.budget == 120)
    }

    @Test func requestsAreCountedOverTheLastMinute() async throws {
        let limiter = RequestRateLimiter(requestsPerMinute: 600)
        for _ in 0..<5 { try await limiter.acquire() }
        #expect(limiter.usedLastMinute == 5)
        #expect(limiter.requestCount == 5)
    }

    @Test func aLoweredBudgetKeepsOnlyItsOwnBurst() async throws {
        let limiter = RequestRateLimiter(requestsPerMinute: 6000)
        limiter.lowerBudget(to: 20)  // burst 2, then 18 a minute
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<3 { try await limiter.acquire() }
        #expect(clock.now - start >= .seconds(3))
    }

    @Test func aPauseHoldsEveryCallerBack() async throws {
        let limiter = RequestRateLimiter(requestsPerMinute: 6000)
        limiter.pause(for: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        async let first: Void = limiter.acquire()
        async let second: Void = limiter.acquire()
        _ = try await (first, second)
        #expect(clock.now - start >= .milliseconds(290))
    }

    @Test func aCancelledWaiterGivesItsTokenAndItsCountBack() async throws {
        let limiter = RequestRateLimiter(requestsPerMinute: 10)  // burst 1
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.requestCount == 1)
    }
}
