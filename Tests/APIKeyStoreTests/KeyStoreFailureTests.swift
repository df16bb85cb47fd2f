import APIKeyStore
import HyperstackSandbox
import InfrahubClient
import Testing

/// Failed upstream calls leave no trace in the cache; a 404 evicts what upstream no longer has.
@Suite struct KeyStoreFailureTests {
    @Test func failedGenerateLeavesStateUnchanged() async throws {
        let fixture = try KeyStoreFixture()
        _ = try await fixture.outsider.generateKey(name: "existing", description: nil)
        let before = try await fixture.store.list()
        await fixture.sandbox.injectFaults([.status(500, method: "POST")])

        await #expect(throws: InfrahubError.self) { _ = try await fixture.store.generate(name: "fails", description: nil) }

        #expect(fixture.store.cachedList() == ListOutcome(snapshot: before.snapshot, fromCache: true))
        #expect(fixture.changes.all.isEmpty)
        #expect(await fixture.sandbox.stats().keyCount == 1)
    }

    @Test func failedUpdateAndDeleteLeaveStateUnchanged() async throws {
        let fixture = try KeyStoreFixture()
        let made = try await fixture.outsider.generateKey(name: "target", description: nil)
        let before = try await fixture.store.list()
        await fixture.sandbox.injectFaults([.status(500, method: "PUT"), .status(500, method: "DELETE")])

        do throws(InfrahubError) {
            _ = try await fixture.store.update(id: made.record.id, name: "renamed", description: .keep)
            Issue.record("update should have failed")
        } catch {
            #expect(error.kind == .serverError)
        }
        do throws(InfrahubError) {
            _ = try await fixture.store.delete(id: made.record.id)
            Issue.record("delete should have failed")
        } catch {
            #expect(error.kind == .serverError)
        }

        #expect(fixture.store.cachedList()?.snapshot == before.snapshot)
        #expect(fixture.changes.all.isEmpty)
    }

    @Test func failedRefreshKeepsTheCachedSnapshot() async throws {
        let fixture = try KeyStoreFixture()
        _ = try await fixture.outsider.generateKey(name: "existing", description: nil)
        let before = try await fixture.store.list()
        await fixture.sandbox.injectFaults([.status(500, method: "GET")])

        await #expect(throws: InfrahubError.self) { _ = try await fixture.store.list(refresh: true) }

        let after = try await fixture.store.list()
        #expect(after == ListOutcome(snapshot: before.snapshot, fromCache: true))
        #expect(fixture.changes.all.isEmpty)
    }

    @Test func failedColdListLeavesNothingCachedAndTheNextListRetries() async throws {
        let fixture = try KeyStoreFixture()
        await fixture.sandbox.injectFaults([.status(503, method: "GET")])

        await #expect(throws: InfrahubError.self) { _ = try await fixture.store.list() }
        #expect(fixture.store.cachedList() == nil)

        let outcome = try await fixture.store.list()
        #expect(outcome.fromCache == false)
        #expect(outcome.snapshot.revision == 1)
        #expect(await fixture.requests(.list) == 2)
    }

    @Test func updateOfAKeyDeletedElsewhereEvictsItAndRethrows() async throws {
        let fixture = try KeyStoreFixture()
        let gone = try await fixture.outsider.generateKey(name: "gone", description: nil)
        let kept = try await fixture.outsider.generateKey(name: "kept", description: nil)
        _ = try await fixture.store.list()
        try await fixture.outsider.deleteKey(id: gone.record.id)

        do throws(InfrahubError) {
            _ = try await fixture.store.update(id: gone.record.id, name: "whatever", description: .keep)
            Issue.record("update should have failed with 404")
        } catch {
            #expect(error.kind == .notFound)
        }

        #expect(fixture.changes.changes == [KeyChange(revision: 2, cause: .refresh, removed: [gone.record.id])])
        let cached = try #require(fixture.store.cachedList())
        #expect(cached.snapshot.keys.map(\.id) == [kept.record.id])
        #expect(cached.snapshot.revision == 2)
    }

    @Test func deleteOfAKeyDeletedElsewhereEvictsItAndRethrows() async throws {
        let fixture = try KeyStoreFixture()
        let gone = try await fixture.outsider.generateKey(name: "gone", description: nil)
        _ = try await fixture.store.list()
        try await fixture.outsider.deleteKey(id: gone.record.id)

        do throws(InfrahubError) {
            _ = try await fixture.store.delete(id: gone.record.id)
            Issue.record("delete should have failed with 404")
        } catch {
            #expect(error.kind == .notFound)
        }

        #expect(fixture.changes.changes == [KeyChange(revision: 2, cause: .refresh, removed: [gone.record.id])])
        #expect(fixture.store.cachedList()?.snapshot.keys == [])
    }

    @Test func notFoundForAnUncachedIdChangesNothing() async throws {
        let fixture = try KeyStoreFixture()
        let before = try await fixture.store.list()

        do throws(InfrahubError) {
            _ = try await fixture.store.delete(id: 987_654)
            Issue.record("delete should have failed with 404")
        } catch {
            #expect(error.kind == .notFound)
        }

        #expect(fixture.changes.all.isEmpty)
        #expect(fixture.store.cachedList()?.snapshot == before.snapshot)
    }
}
