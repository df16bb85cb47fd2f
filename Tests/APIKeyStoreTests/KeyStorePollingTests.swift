import HyperstackSandbox
import InfrahubClient
import LogCaptureSupport
import Logging
import Testing
@testable import APIKeyStore

/// Background polling: noticing changes made elsewhere, backing off while upstream fails.
@Suite struct KeyStorePollingTests {
    @Test func pollingNoticesAChangeMadeElsewhere() async throws {
        let fixture = try KeyStoreFixture(pollInterval: .milliseconds(50))
        _ = try await fixture.store.list()

        let added = try await fixture.outsider.generateKey(name: "from the console", description: nil)

        #expect(await eventually { !fixture.changes.changes.isEmpty })
        let change = try #require(fixture.changes.changes.first)
        #expect(change.cause == .refresh)
        #expect(change.revision == 2)
        #expect(change.added.map(\.id) == [added.record.id])
        #expect(fixture.store.cachedList()?.snapshot.revision == 2)
        await fixture.store.shutdown()
    }

    @Test func pollingWithoutChangesStaysQuiet() async throws {
        let fixture = try KeyStoreFixture(pollInterval: .milliseconds(30))
        _ = try await fixture.store.list()

        #expect(await eventually { await fixture.requests(.list) >= 5 })
        #expect(fixture.changes.all.isEmpty)
        #expect(fixture.store.cachedList()?.snapshot.revision == 1)
        await fixture.store.shutdown()
    }

    @Test func setPollIntervalStartsReplacesAndStopsThePoller() async throws {
        let fixture = try KeyStoreFixture()
        #expect(await fixture.store.currentPollInterval == nil)
        try await Task.sleep(for: .milliseconds(200))
        #expect(await fixture.requests(.list) == 0)

        await fixture.store.setPollInterval(.milliseconds(30))
        #expect(await fixture.store.currentPollInterval == .milliseconds(30))
        #expect(await eventually { await fixture.requests(.list) >= 3 })

        await fixture.store.setPollInterval(.zero)
        #expect(await fixture.store.currentPollInterval == nil)
        // A poll already under way may still land; after that, silence.
        try await Task.sleep(for: .milliseconds(100))
        let settled = await fixture.requests(.list)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await fixture.requests(.list) == settled)

        await fixture.store.setPollInterval(.milliseconds(30))
        #expect(await eventually { await fixture.requests(.list) >= settled + 3 })
        await fixture.store.setPollInterval(nil)
        try await Task.sleep(for: .milliseconds(100))
        let stoppedAgain = await fixture.requests(.list)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await fixture.requests(.list) == stoppedAgain)
    }

    @Test func shutdownStopsPollingForGood() async throws {
        let fixture = try KeyStoreFixture(pollInterval: .milliseconds(30))
        #expect(await eventually { await fixture.requests(.list) >= 2 })

        await fixture.store.shutdown()
        let atShutdown = await fixture.requests(.list)
        await fixture.store.setPollInterval(.milliseconds(30))
        try await Task.sleep(for: .milliseconds(300))

        #expect(await fixture.requests(.list) == atShutdown)
        #expect(await fixture.store.currentPollInterval == nil)
    }

    @Test func pollerBacksOffWhileUpstreamFailsAndRecovers() async throws {
        let fixture = try KeyStoreFixture(pollInterval: .milliseconds(50), maxPollBackoff: .milliseconds(400))
        _ = try await fixture.store.list()
        await fixture.sandbox.injectFaults([.status(500, method: "GET", count: 4)])
        let start = ContinuousClock.now

        // Four failures wait 100 + 200 + 400 + 400 ms between polls; without backoff they
        // would be over in 200 ms.
        #expect(await eventually(timeout: .seconds(20)) { await fixture.sandbox.stats().pendingFaults == 0 })
        let failingFor = start.duration(to: .now)
        #expect(failingFor >= .milliseconds(600), "four failures took only \(failingFor)")

        // After the capped wait, one success restores the normal 50 ms rhythm.
        let afterFailures = await fixture.requests(.list)
        #expect(await eventually(timeout: .seconds(20)) { await fixture.requests(.list) >= afterFailures + 6 })

        let warnings = fixture.logs.lines(at: .warning).filter { $0.text.contains("Background refresh") }
        #expect(warnings.count == 4)
        #expect(warnings.allSatisfy { !$0.text.contains(KeyStoreFixture.apiKey) })
        #expect(fixture.logs.lines(at: .info).contains { $0.text.contains("works again") })
        #expect(fixture.changes.all.isEmpty)
        await fixture.store.shutdown()
    }

    @Test func backoffDoublesFromTheIntervalUpToTheCap() {
        let interval = Duration.milliseconds(100)
        let cap = Duration.seconds(1)
        let delays = (1...6).map { KeyStore.pollBackoff(interval: interval, failures: $0, cap: cap) }
        #expect(delays == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
        #expect(KeyStore.pollBackoff(interval: .seconds(1), failures: 1_000, cap: .seconds(300)) == .seconds(300))
        // A cap below the interval never makes polling faster than asked.
        #expect(KeyStore.pollBackoff(interval: .seconds(10), failures: 1, cap: .seconds(5)) == .seconds(10))
    }
}
