import InfrahubClient
import Locking
import Synchronization
import Testing

@testable import APIKeyStore

/// Many sessions over one store: each subscription hears every change while it lives, before the
/// mutation returns, and nothing once cancelled; a cancelled one holds nothing of its session.
@Suite struct KeyStoreSubscriptionTests {
    @Test func everySubscriberHearsTheChangeBeforeTheMutationReturns() async throws {
        let fixture = try KeyStoreFixture()
        let second = ChangeRecorder()
        let subscription = fixture.store.subscribe { second.record($0) }

        let (generated, revision) = try await fixture.store.generate(name: "shared", description: nil)
        fixture.changes.mark("returned \(revision)")
        second.mark("returned \(revision)")

        let expected = KeyChange(revision: revision, cause: .generate, added: [generated.record])
        #expect(fixture.changes.all == [.change(expected), .marker("returned \(revision)")])
        #expect(second.all == [.change(expected), .marker("returned \(revision)")])
        subscription.cancel()
    }

    @Test func aCancelledSubscriptionHearsNothingMore() async throws {
        let fixture = try KeyStoreFixture()
        let late = ChangeRecorder()
        let subscription = fixture.store.subscribe { late.record($0) }
        _ = try await fixture.store.generate(name: "first", description: nil)
        subscription.cancel()
        subscription.cancel()
        _ = try await fixture.store.generate(name: "second", description: nil)

        #expect(late.changes.map(\.revision) == [1])
        #expect(fixture.changes.changes.map(\.revision) == [1, 2])
        #expect(fixture.store.subscribers.count == 1)
    }

    @Test func cancellingReleasesWhatTheReceiverCaptured() throws {
        let fixture = try KeyStoreFixture()
        weak var weakSession: FakeSession?
        var subscription: KeyChangeSubscription?
        do {
            let session = FakeSession()
            weakSession = session
            subscription = fixture.store.subscribe { session.heard($0) }
        }
        #expect(weakSession != nil, "the store keeps a live subscriber's session")
        subscription?.cancel()
        #expect(weakSession == nil, "a cancelled subscription must let its session go")
        #expect(fixture.store.subscribers.count == 1)
        withExtendedLifetime(subscription) {}
    }

    @Test func releasingTheTokenCancels() throws {
        let fixture = try KeyStoreFixture()
        var subscription: KeyChangeSubscription? = fixture.store.subscribe { _ in }
        #expect(fixture.store.subscribers.count == 2)
        withExtendedLifetime(subscription) {}
        subscription = nil
        #expect(fixture.store.subscribers.count == 1)
    }
}

/// Stands for a session whose connection the receiver captures.
private final class FakeSession: Sendable {
    private let count = Lock(0)
    func heard(_ change: KeyChange) { count.withLock { $0 += 1 } }
}
