import AsyncHTTPClient
import HTTPTypes
import InfrahubWire
import NIOCore
import NIOPosix
import Testing

@testable import InfrahubClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 10, items 1 (transport part), 2 and 13: deadlines cover the body, oversized and
/// unsendable requests are final, and no library error's text survives classification.
@Suite("Transport hardening")
struct TransportHardeningTests {
    static let secret = "transport-test-secret-0123456789"

    /// Text a library might put in a description, which no failure's text may carry.
    static let libraryWords = ["HTTPClientError", "NIO", "IOError", "ChannelError", "Optional(", "errno:", "maxBytes"]

    static func assertOwnWords(_ failure: TransportFailure, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = "\(failure)"
        for word in libraryWords + [secret, String(secret.prefix(8))] {
            #expect(!text.contains(word), "\(text) holds \(word)", sourceLocation: sourceLocation)
        }
    }

    @Test func invalidHeaderValuesAreAFinalInvalidRequestThatQuotesNothing() {
        let failure = TransportFailure.classifying(HTTPClientError.invalidHeaderFieldValues([Self.secret + "\nX-Injected: yes"]))
        guard case .invalidRequest = failure else { Issue.record("expected invalidRequest, got \(failure)"); return }
        Self.assertOwnWords(failure)
        #expect(!"\(failure)".contains("X-Injected"))
        #expect(failure.isFinal && failure.neverSent)
        let policy = RetryPolicy(maxAttempts: 4, initialBackoff: .seconds(1), maxBackoff: .seconds(10))
        #expect(!policy.shouldRetry(.idempotent, after: .transportFailure(failure), attempt: 1))
        #expect(!policy.shouldRetry(.generate, after: .transportFailure(failure), attempt: 1))
    }

    @Test func everyLibraryErrorGetsOurOwnWords() {
        let errors: [any Error] = [
            HTTPClientError.invalidHeaderFieldNames([Self.secret]), HTTPClientError.unsupportedScheme(Self.secret),
            HTTPClientError.serverOfferedUnsupportedApplicationProtocol(Self.secret), HTTPClientError.readTimeout,
            HTTPClientError.remoteConnectionClosed, HTTPClientError.internalStateFailure(),
            NIOTooManyBytesError(maxBytes: 4 << 20), IOError(errnoCode: ECONNRESET, reason: Self.secret),
            IOError(errnoCode: ECONNREFUSED, reason: Self.secret), IOError(errnoCode: EIO, reason: Self.secret),
            ChannelError.ioOnClosedChannel, ChannelError.connectPending, CancellationError(),
        ]
        for error in errors {
            Self.assertOwnWords(TransportFailure.classifying(error))
        }
    }

    @Test func oversizedBodiesAreFinalAndNameTheLimit() {
        let failure = TransportFailure.classifying(NIOTooManyBytesError(maxBytes: 4 * 1024 * 1024))
        #expect(failure == .unusableResponse("its body is larger than 4 MiB, the most this client accepts"))
        #expect(failure.isFinal && !failure.neverSent)
        let error = InfrahubError.transport(failure, call: .list, attempts: 1, timeout: .seconds(30))
        #expect(error.kind == .malformedResponse)
        #expect(error.retryable == false)
    }

    @Test func aStalledBodyIsNotRetriedButAHungHeadStillIs() {
        let policy = RetryPolicy(maxAttempts: 4, initialBackoff: .seconds(1), maxBackoff: .seconds(10))
        let stalled = TransportFailure.classifyingBody(HTTPClientError.readTimeout)
        guard case .responseTimedOut = stalled else { Issue.record("expected responseTimedOut, got \(stalled)"); return }
        #expect(!policy.shouldRetry(.idempotent, after: .transportFailure(stalled), attempt: 1))
        #expect(policy.shouldRetry(.idempotent, after: .transportFailure(.timedOut("x")), attempt: 1))
        #expect(InfrahubError.transport(stalled, call: .list, attempts: 1, timeout: .seconds(1)).kind == .unreachable)
    }

    @Test func theDeadlineCoversAStalledBody() async throws {
        let body = Bodies.list
        try await withServer([.stallBody(status: 200, body: body, sent: 10)]) { server in
            let transport = try makeTransport(server.baseURL)
            let clock = ContinuousClock()
            let started = clock.now
            var failure: TransportFailure?
            do throws(TransportFailure) {
                _ = try await transport.send(AsyncHTTPTransportTests.get("/api-key"), timeout: .milliseconds(400))
            } catch {
                failure = error
            }
            let elapsed = clock.now - started
            try await transport.shutdown()
            guard case .responseTimedOut? = failure else { Issue.record("expected responseTimedOut, got \(String(describing: failure))"); return }
            #expect(elapsed < .seconds(3))
        }
    }

    @Test func aReadIdleTimeoutEndsAStalledBodyBeforeTheDeadline() async throws {
        try await withServer([.stallBody(status: 200, body: Bodies.list, sent: 10)]) { server in
            let transport = try makeTransport(server.baseURL, readIdleTimeout: .milliseconds(300))
            let clock = ContinuousClock()
            let started = clock.now
            var failure: TransportFailure?
            do throws(TransportFailure) {
                _ = try await transport.send(AsyncHTTPTransportTests.get("/api-key"), timeout: .seconds(20))
            } catch {
                failure = error
            }
            let elapsed = clock.now - started
            try await transport.shutdown()
            guard case .responseTimedOut? = failure else { Issue.record("expected responseTimedOut, got \(String(describing: failure))"); return }
            #expect(elapsed < .seconds(5))
        }
    }

    @Test func aStalledListIsOneRequestAnd1503() async throws {
        try await withServer([], fallback: .stallBody(status: 200, body: Bodies.list, sent: 5)) { server in
            let error = try await withClient(server.baseURL, maxAttempts: 4, requestTimeout: .milliseconds(300)) { client in
                await captureError { _ = try await client.listKeys() }
            }
            #expect(error?.kind == .unreachable)
            #expect(server.hits == 1)
        }
    }

    @Test func anUnsendableHeaderIsOneAttemptAndQuotesNothing() async throws {
        try await withServer([], fallback: .respond(status: 200, body: Bodies.list)) { server in
            let key = Self.secret + "\r\nX-Injected: yes"
            let error = try await withClient(server.baseURL, maxAttempts: 4, credential: key) { client in
                await captureError { _ = try await client.listKeys() }
            }
            #expect(server.hits == 0)
            #expect(error?.retryable == false)
            let message = error?.message ?? ""
            #expect(!message.contains("X-Injected") && !message.contains(String(Self.secret.prefix(8))))
            #expect(!message.contains("HTTPClientError"))
        }
    }
}
