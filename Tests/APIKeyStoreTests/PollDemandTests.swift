import InfrahubClient
import Testing
@testable import APIKeyStore

/// A store shared by sessions polls at the shortest interval they ask for, and not at all
/// once none asks.
@Suite struct PollDemandTests {
    @Test func theShortestDemandWinsAndTheLastOneLeavingStopsPolling() async throws {
        let fixture = try KeyStoreFixture()
        let slow = fixture.store.demandPolling(.seconds(30))
        #expect(await eventually { await fixture.store.currentPollInterval == .seconds(30) })
        let fast = fixture.store.demandPolling(nil)
        await fast.set(.seconds(5))
        #expect(await fixture.store.currentPollInterval == .seconds(5))
        await fast.set(nil)
        #expect(await fixture.store.currentPollInterval == .seconds(30))
        await fast.set(.seconds(2))
        fast.cancel()
        #expect(await eventually { await fixture.store.currentPollInterval == .seconds(30) })
        #expect(fixture.store.pollDemandCount == 1)
        slow.cancel()
        #expect(await eventually { await fixture.store.currentPollInterval == nil })
        await fixture.store.shutdown()
    }

    @Test func aReleasedDemandIsWithdrawn() async throws {
        let fixture = try KeyStoreFixture()
        var demand: PollDemand? = fixture.store.demandPolling(.seconds(1))
        #expect(await eventually { await fixture.store.currentPollInterval == .seconds(1) })
        _ = demand
        demand = nil
        #expect(await eventually { await fixture.store.currentPollInterval == nil })
        await fixture.store.shutdown()
    }

    @Test func sharedPollingNoticesChangesMadeElsewhere() async throws {
        let fixture = try KeyStoreFixture()
        _ = try await fixture.store.list()
        let demand = fixture.store.demandPolling(.milliseconds(50))
        let added = try await fixture.outsider.generateKey(name: "elsewhere", description: nil)
        #expect(await eventually { fixture.changes.changes.contains { $0.added.map(\.id) == [added.record.id] } })
        demand.cancel()
        await fixture.store.shutdown()
    }
}
