import APIKeyStore
import HyperstackSandbox
import InfrahubClient
import Locking
import Synchronization
import Testing

/// Waits on upstream's backoff reach every caller that waits on them, through
/// `UpstreamWaitReporting`, including callers that joined a shared listing.
@Suite struct KeyStoreWaitReportingTests {
    /// Collects what one caller heard.
    final class Heard: Sendable {
        private let waits = Lock<[UpstreamWait]>([])
        func record(_ wait: UpstreamWait) { waits.withLock { $0.append(wait) } }
        var all: [UpstreamWait] { waits.withLock { $0 } }
    }

    /// A 429 with `Retry-After: 1`, answered late enough for a second caller to join first.
    private static func slowRateLimit(method: String, path: String) -> SandboxFault {
        var fault = SandboxFault.status(429, retryAfter: "1", method: method, path: path)
        fault.latency = .milliseconds(300)
        return fault
    }

    @Test func everyCallerOfASharedListingHearsItsBackoff() async throws {
        let fixture = try KeyStoreFixture(maxAttempts: 3)
        await fixture.sandbox.injectFaults([Self.slowRateLimit(method: "GET", path: "/api-key")])
        let first = Heard()
        let second = Heard()
        let firstCall = Task {
            try await UpstreamWaitReporting.$observer.withValue(UpstreamWaitObserver { first.record($0) }) { try await fixture.store.list() }
        }
        #expect(await eventually { await fixture.requests(.list) == 1 })
        let secondCall = Task {
            try await UpstreamWaitReporting.$observer.withValue(UpstreamWaitObserver { second.record($0) }) { try await fixture.store.list() }
        }
        let (a, b) = try await (firstCall.value, secondCall.value)
        #expect(a.snapshot == b.snapshot)
        #expect(await fixture.requests(.list) == 2, "one shared listing, retried once")
        for heard in [first, second] {
            #expect(heard.all.count == 1)
            #expect(heard.all.first?.cause == .rateLimited)
            #expect(heard.all.first?.message == "Hyperstack rate limit: retrying in 1.0 s (attempt 2 of 3)")
        }
    }

    @Test func aMutationsCallerHearsItsOwnBackoffAndAQuietCallerNothing() async throws {
        let fixture = try KeyStoreFixture(maxAttempts: 2)
        let key = try await fixture.outsider.generateKey(name: "doomed", description: nil)
        await fixture.sandbox.injectFaults([.status(503, method: "DELETE")])
        let heard = Heard()
        _ = try await UpstreamWaitReporting.$observer.withValue(UpstreamWaitObserver { heard.record($0) }) {
            try await fixture.store.delete(id: key.record.id)
        }
        #expect(heard.all.map(\.cause) == [.unavailable(status: 503)])
        #expect(heard.all.first?.attempt?.next == 2)
        #expect(heard.all.first?.message.hasPrefix("Hyperstack unavailable (HTTP 503): retrying in ") == true)
        // Without an observer the same backoff is silent, and nothing else changes.
        await fixture.sandbox.injectFaults([.status(429, retryAfter: "0", method: "GET")])
        _ = try await fixture.store.list(refresh: true)
        #expect(heard.all.count == 1)
    }
}
