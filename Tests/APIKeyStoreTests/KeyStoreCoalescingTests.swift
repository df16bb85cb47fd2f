import APIKeyStore
import HyperstackSandbox
import InfrahubClient
import Testing

/// Concurrent cold lists share one upstream request.
@Suite struct KeyStoreCoalescingTests {
    @Test func hundredConcurrentColdListsMakeOneUpstreamRequest() async throws {
        let fixture = try KeyStoreFixture()
        _ = try await fixture.outsider.generateKey(name: "only", description: nil)
        // A slow answer keeps the first listing in flight while the others arrive.
        await fixture.sandbox.injectFaults([.latency(.milliseconds(300), method: "GET", path: "/api-key")])

        let outcomes = try await withThrowingTaskGroup(of: ListOutcome.self) { group in
            for _ in 0..<100 {
                group.addTask { try await fixture.store.list() }
            }
            var collected: [ListOutcome] = []
            for try await outcome in group { collected.append(outcome) }
            return collected
        }

        #expect(outcomes.count == 100)
        #expect(Set(outcomes.map(\.snapshot.revision)) == [1])
        #expect(outcomes.allSatisfy { $0.snapshot.keys.map(\.name) == ["only"] })
        #expect(await fixture.requests(.list) == 1)
        #expect(fixture.changes.all.isEmpty)
    }

    @Test func cancellingTheFirstCallerDoesNotFailTheOthers() async throws {
        let fixture = try KeyStoreFixture()
        await fixture.sandbox.injectFaults([.latency(.milliseconds(400), method: "GET", path: "/api-key")])

        let first = Task { try await fixture.store.list() }
        #expect(await eventually { await fixture.requests(.list) == 1 })
        let second = Task { try await fixture.store.list() }
        try await Task.sleep(for: .milliseconds(50))
        first.cancel()

        let outcome = try await second.value
        #expect(outcome.fromCache == false)
        #expect(outcome.snapshot.revision == 1)
        _ = try? await first.value
        #expect(await fixture.requests(.list) == 1)
        #expect(fixture.store.cachedList() != nil)
    }

    @Test func refreshJoinsAListingAlreadyInFlight() async throws {
        let fixture = try KeyStoreFixture()
        await fixture.sandbox.injectFaults([.latency(.milliseconds(300), method: "GET", path: "/api-key")])

        async let cold = fixture.store.list()
        #expect(await eventually { await fixture.requests(.list) == 1 })
        async let forced = fixture.store.list(refresh: true)
        let (a, b) = try await (cold, forced)

        #expect(a.snapshot == b.snapshot)
        #expect(await fixture.requests(.list) == 1)
    }
}
