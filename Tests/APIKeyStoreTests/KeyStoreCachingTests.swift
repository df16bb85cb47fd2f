import APIKeyStore
import HyperstackSandbox
import InfrahubClient
import Testing

/// When a list is answered from the cache and when it goes upstream.
@Suite struct KeyStoreCachingTests {
    @Test func firstLoadSetsRevisionOneWithoutNotification() async throws {
        let fixture = try KeyStoreFixture()
        _ = try await fixture.outsider.generateKey(name: "existing", description: "made elsewhere")

        let outcome = try await fixture.store.list()

        #expect(outcome.fromCache == false)
        #expect(outcome.snapshot.revision == 1)
        #expect(outcome.snapshot.keys.map(\.name) == ["existing"])
        #expect(fixture.changes.all.isEmpty)
        #expect(await fixture.requests(.list) == 1)
    }

    @Test func listWithinTTLIsServedFromCache() async throws {
        let fixture = try KeyStoreFixture(cacheTTL: .seconds(60))

        let first = try await fixture.store.list()
        let second = try await fixture.store.list()
        let third = try await fixture.store.list(refresh: false, maxAge: .seconds(60))

        #expect(first.fromCache == false)
        #expect(second.fromCache == true)
        #expect(third.fromCache == true)
        #expect(second.snapshot == first.snapshot)
        #expect(fixture.store.cachedList() == second)
        #expect(await fixture.requests(.list) == 1)
    }

    @Test func listAfterTTLGoesUpstream() async throws {
        let fixture = try KeyStoreFixture(cacheTTL: .milliseconds(100))

        _ = try await fixture.store.list()
        try await Task.sleep(for: .milliseconds(250))
        #expect(fixture.store.cachedList() == nil)
        let second = try await fixture.store.list()

        #expect(second.fromCache == false)
        #expect(second.snapshot.revision == 1)
        #expect(await fixture.requests(.list) == 2)
    }

    @Test func zeroTTLNeverServesFromCache() async throws {
        let fixture = try KeyStoreFixture(cacheTTL: .zero)

        _ = try await fixture.store.list()
        let second = try await fixture.store.list()

        #expect(second.fromCache == false)
        #expect(await fixture.requests(.list) == 2)
    }

    @Test func maxAgeZeroAlwaysGoesUpstream() async throws {
        let fixture = try KeyStoreFixture(cacheTTL: .seconds(60))

        _ = try await fixture.store.list()
        let second = try await fixture.store.list(maxAge: .zero)
        let third = try await fixture.store.list(maxAge: .zero)

        #expect(second.fromCache == false)
        #expect(third.fromCache == false)
        #expect(await fixture.requests(.list) == 3)
    }

    @Test func maxAgeShorterThanSnapshotAgeGoesUpstream() async throws {
        let fixture = try KeyStoreFixture(cacheTTL: .seconds(60))

        _ = try await fixture.store.list()
        try await Task.sleep(for: .milliseconds(200))
        let generous = try await fixture.store.list(maxAge: .seconds(30))
        let strict = try await fixture.store.list(maxAge: .milliseconds(100))

        #expect(generous.fromCache == true)
        #expect(strict.fromCache == false)
        #expect(await fixture.requests(.list) == 2)
    }

    @Test func refreshBypassesCacheAndKeepsRevisionWhenNothingChanged() async throws {
        let fixture = try KeyStoreFixture(cacheTTL: .seconds(60))
        _ = try await fixture.outsider.generateKey(name: "steady", description: nil)

        let first = try await fixture.store.list()
        let refreshed = try await fixture.store.list(refresh: true)

        #expect(refreshed.fromCache == false)
        #expect(refreshed.snapshot.revision == first.snapshot.revision)
        #expect(refreshed.snapshot.keys == first.snapshot.keys)
        #expect(fixture.changes.all.isEmpty)
        #expect(await fixture.requests(.list) == 2)
    }

    @Test func refreshFindingADifferentSetNotifiesTheDiff() async throws {
        let fixture = try KeyStoreFixture(cacheTTL: .seconds(60))
        let kept = try await fixture.outsider.generateKey(name: "kept", description: nil)
        let renamed = try await fixture.outsider.generateKey(name: "old name", description: "d")
        let dropped = try await fixture.outsider.generateKey(name: "dropped", description: nil)
        _ = try await fixture.store.list()

        let added = try await fixture.outsider.generateKey(name: "added", description: nil)
        let renamedRecord = try await fixture.outsider.updateKey(id: renamed.record.id, name: "new name", description: "d")
        try await fixture.outsider.deleteKey(id: dropped.record.id)
        let outcome = try await fixture.store.list(refresh: true)

        #expect(outcome.snapshot.revision == 2)
        #expect(outcome.snapshot.keys.map(\.id) == [kept.record.id, renamed.record.id, added.record.id])
        let changes = fixture.changes.changes
        try #require(changes.count == 1)
        #expect(changes[0].revision == 2)
        #expect(changes[0].cause == .refresh)
        #expect(changes[0].added.map(\.id) == [added.record.id])
        #expect(changes[0].updated == [renamedRecord])
        #expect(changes[0].removed == [dropped.record.id])
    }

    @Test func cacheExpiryReloadAlsoNotifiesChanges() async throws {
        let fixture = try KeyStoreFixture(cacheTTL: .milliseconds(100))
        _ = try await fixture.store.list()
        let added = try await fixture.outsider.generateKey(name: "late", description: nil)
        try await Task.sleep(for: .milliseconds(200))

        let outcome = try await fixture.store.list()

        #expect(outcome.fromCache == false)
        #expect(outcome.snapshot.revision == 2)
        #expect(fixture.changes.changes.map(\.cause) == [.refresh])
        #expect(fixture.changes.changes.first?.added.map(\.id) == [added.record.id])
    }

    @Test func snapshotIsSortedByIdAndStampedInRFC3339UTC() async throws {
        let fixture = try KeyStoreFixture()
        for name in ["c", "a", "b"] { _ = try await fixture.outsider.generateKey(name: name, description: nil) }

        let snapshot = try await fixture.store.list().snapshot

        #expect(snapshot.keys.map(\.id) == snapshot.keys.map(\.id).sorted())
        #expect(snapshot.keys.count == 3)
        let stamp = snapshot.fetchedAtRFC3339
        #expect(stamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/) != nil, "got \(stamp)")
    }
}
