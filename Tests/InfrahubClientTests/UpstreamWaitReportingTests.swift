import InfrahubClient
import Locking
import Synchronization
import Testing

/// The retry loop tells `UpstreamWaitReporting`'s observer of each wait before it sleeps, and
/// says nothing a secret could hide in.
@Suite("Reporting upstream waits")
struct UpstreamWaitReportingTests {
    final class Heard: Sendable {
        private let waits = Lock<[UpstreamWait]>([])
        func record(_ wait: UpstreamWait) { waits.withLock { $0.append(wait) } }
        var all: [UpstreamWait] { waits.withLock { $0 } }
    }

    @Test func eachRetryIsReportedWithItsCauseAndAttempt() async throws {
        try await withServer([
            .respond(status: 429, headers: [("Retry-After", "0")], body: Bodies.error("Too many", reason: "rate_limited")),
            .respond(status: 503, body: Bodies.error("Down", reason: "maintenance")),
            .respond(status: 200, body: Bodies.list),
        ]) { server in
            let heard = Heard()
            let records = try await withClient(server.baseURL, maxAttempts: 4) { client in
                try await UpstreamWaitReporting.$observer.withValue(UpstreamWaitObserver { heard.record($0) }) { try await client.listKeys() }
            }
            #expect(records.count == 1)
            #expect(heard.all.map(\.cause) == [.rateLimited, .unavailable(status: 503)])
            #expect(heard.all.map { $0.attempt?.next } == [2, 3])
            #expect(heard.all.allSatisfy { $0.attempt?.of == 4 })
            #expect(heard.all.first?.message.hasPrefix("Hyperstack rate limit: retrying in 0.") == true)
            #expect(heard.all.first?.message.hasSuffix(" s (attempt 2 of 4)") == true)
            for wait in heard.all { #expect(!wait.message.contains(testAPIKey)) }
        }
    }

    @Test func theFinalAttemptIsNotAWait() async throws {
        try await withServer([], fallback: .respond(status: 429, body: Bodies.error("Slow down", reason: "rate_limited"))) {
            server in
            let heard = Heard()
            _ = try await withClient(server.baseURL, maxAttempts: 2) { client in
                await UpstreamWaitReporting.$observer.withValue(UpstreamWaitObserver { heard.record($0) }) {
                    await captureError { _ = try await client.listKeys() }
                }
            }
            #expect(heard.all.count == 1, "one retry, so one wait")
        }
    }

    @Test func messagesReadAsAPersonWould() {
        #expect(
            UpstreamWait(cause: .rateLimited, delay: .seconds(2), attempt: (2, 4)).message
                == "Hyperstack rate limit: retrying in 2.0 s (attempt 2 of 4)")
        #expect(
            UpstreamWait(cause: .unavailable(status: 502), delay: .milliseconds(1250), attempt: (3, 4)).message
                == "Hyperstack unavailable (HTTP 502): retrying in 1.3 s (attempt 3 of 4)")
        #expect(
            UpstreamWait(cause: .noAnswer, delay: .milliseconds(40), attempt: (2, 3)).message
                == "Hyperstack did not answer: retrying in 0.0 s (attempt 2 of 3)")
        #expect(
            UpstreamWait(cause: .sharedPause, delay: .seconds(5)).message
                == "Hyperstack rate limit: waiting 5.0 s before sending")
    }
}
