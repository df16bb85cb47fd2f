import APIKeyStore
import Credentials
import HyperstackSandbox
import InfrahubClient
import Testing

/// Mutations update the cache from upstream's answer, with one request and one notification.
@Suite struct KeyStoreMutationTests {
    @Test func generateAddsTheMaskedRecordWithOneRequestAndNotifiesFirst() async throws {
        let fixture = try KeyStoreFixture()
        let loaded = try await fixture.store.list()
        let before = await fixture.totalRequests()

        let (generated, revision) = try await fixture.store.generate(name: "ci", description: "for CI")
        fixture.changes.mark("returned \(revision)")

        #expect(await fixture.totalRequests() == before + 1)
        #expect(await fixture.requests(.generate) == 1)
        #expect(revision == loaded.snapshot.revision + 1)
        #expect(generated.record.name == "ci")
        #expect(generated.record.description == "for CI")
        #expect(!generated.secret.revealed.isEmpty)
        let expected = KeyChange(revision: revision, cause: .generate, added: [generated.record])
        #expect(fixture.changes.all == [.change(expected), .marker("returned \(revision)")])

        let cached = try await fixture.store.list()
        #expect(cached.fromCache == true)
        #expect(cached.snapshot.revision == revision)
        #expect(cached.snapshot.keys == [generated.record])
        #expect(await fixture.requests(.list) == 1)
    }

    @Test func cachedGeneratedRecordMatchesTheNextUpstreamListing() async throws {
        let fixture = try KeyStoreFixture()
        _ = try await fixture.store.list()
        let (_, revision) = try await fixture.store.generate(name: "stable", description: nil)

        let refreshed = try await fixture.store.list(refresh: true)

        // Same set upstream as in the cache: no bump, no second notification.
        #expect(refreshed.snapshot.revision == revision)
        #expect(fixture.changes.changes.count == 1)
    }

    @Test func updateReplacesTheRecordWithOneRequest() async throws {
        let fixture = try KeyStoreFixture()
        let made = try await fixture.outsider.generateKey(name: "before", description: "old")
        _ = try await fixture.store.list()
        let before = await fixture.totalRequests()

        let (record, revision) = try await fixture.store.update(id: made.record.id, name: "after", description: .keep)
        fixture.changes.mark("returned \(revision)")

        #expect(await fixture.totalRequests() == before + 1)
        #expect(record.id == made.record.id)
        #expect(record.name == "after")
        #expect(revision == 2)
        #expect(fixture.changes.all == [.change(KeyChange(revision: 2, cause: .update, updated: [record])), .marker("returned 2")])
        let cached = try #require(fixture.store.cachedList())
        #expect(cached.snapshot.keys == [record])
        #expect(cached.snapshot.revision == 2)
    }

    @Test func deleteRemovesTheRecordWithOneRequest() async throws {
        let fixture = try KeyStoreFixture()
        let doomed = try await fixture.outsider.generateKey(name: "doomed", description: nil)
        let kept = try await fixture.outsider.generateKey(name: "kept", description: nil)
        _ = try await fixture.store.list()
        let before = await fixture.totalRequests()

        let revision = try await fixture.store.delete(id: doomed.record.id)
        fixture.changes.mark("returned \(revision)")

        #expect(await fixture.totalRequests() == before + 1)
        #expect(revision == 2)
        #expect(fixture.changes.all == [.change(KeyChange(revision: 2, cause: .delete, removed: [doomed.record.id])), .marker("returned 2")])
        let cached = try #require(fixture.store.cachedList())
        #expect(cached.snapshot.keys.map(\.id) == [kept.record.id])
    }

    @Test func revisionsIncreaseByOneForEveryMutation() async throws {
        let fixture = try KeyStoreFixture()
        _ = try await fixture.store.list()

        let (a, r1) = try await fixture.store.generate(name: "a", description: nil)
        let (_, r2) = try await fixture.store.generate(name: "b", description: nil)
        let (_, r3) = try await fixture.store.update(id: a.record.id, name: "a2", description: .set("x"))
        let r4 = try await fixture.store.delete(id: a.record.id)

        #expect([r1, r2, r3, r4] == [2, 3, 4, 5])
        #expect(fixture.changes.changes.map(\.revision) == [2, 3, 4, 5])
        #expect(fixture.changes.changes.map(\.cause) == [.generate, .generate, .update, .delete])
    }

    @Test func mutationOnAColdCacheNotifiesAndTheNextListStillFetches() async throws {
        let fixture = try KeyStoreFixture()
        let existing = try await fixture.outsider.generateKey(name: "existing", description: nil)

        let (generated, revision) = try await fixture.store.generate(name: "new", description: nil)
        #expect(revision == 1)
        #expect(fixture.changes.changes == [KeyChange(revision: 1, cause: .generate, added: [generated.record])])
        #expect(fixture.store.cachedList() == nil)
        #expect(await fixture.requests(.list) == 0)

        let listed = try await fixture.store.list()
        #expect(listed.fromCache == false)
        #expect(listed.snapshot.keys.map(\.id) == [existing.record.id, generated.record.id])
        // The set grew beyond what the mutation showed, so the load is a change of its own.
        #expect(listed.snapshot.revision == 2)
        #expect(fixture.changes.changes.last == KeyChange(revision: 2, cause: .refresh, added: [existing.record]))
    }

    @Test func mutationDuringAListingIsNotOverwrittenByIt() async throws {
        let fixture = try KeyStoreFixture()
        _ = try await fixture.store.list()
        // The sandbox answers the listing at once but delivers it late, so it predates the generate.
        await fixture.sandbox.injectFaults([.latency(.milliseconds(400), method: "GET", path: "/api-key")])

        let refresh = Task { try await fixture.store.list(refresh: true) }
        #expect(await eventually { await fixture.requests(.list) == 2 })
        let (generated, revision) = try await fixture.store.generate(name: "raced", description: nil)
        let outcome = try await refresh.value

        #expect(outcome.snapshot.keys == [generated.record])
        #expect(outcome.snapshot.revision == revision)
        let cached = try #require(fixture.store.cachedList())
        #expect(cached.snapshot.keys == [generated.record])
        // The stale listing was discarded and the store listed once more.
        #expect(await fixture.requests(.list) == 3)
        #expect(fixture.changes.changes.map(\.cause) == [.generate])
    }
}
