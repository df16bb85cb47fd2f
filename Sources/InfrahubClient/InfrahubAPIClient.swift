import Credentials
import HTTPTypes
import InfrahubWire
import JanssonJSON
import Locking
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Configuration of the typed Infrahub client.
package struct InfrahubClientConfiguration: Sendable {
    /// Sent as `User-Agent: hyperstack-rpc/<version> (...)` and `Hyperstack-Client: hyperstack-rpc/<version>`.
    package var clientVersion: String
    /// Per-request timeout (connect timeouts are the transport's business).
    package var requestTimeout: Duration
    /// Most tries per call, including the first.
    package var maxAttempts: Int
    /// First backoff delay; doubles each retry, with jitter.
    package var initialBackoff: Duration
    /// Longest wait honoured from a `Retry-After` header or a backoff.
    package var maxBackoff: Duration
    /// Client-side cap on requests per minute (upstream allows 500 per source IP).
    package var requestsPerMinute: Int

    package init(
        clientVersion: String,
        requestTimeout: Duration = .seconds(30),
        maxAttempts: Int = 4,
        initialBackoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(10),
        requestsPerMinute: Int = 500
    ) {
        self.clientVersion = clientVersion
        self.requestTimeout = requestTimeout
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.requestsPerMinute = requestsPerMinute
    }
}

/// Typed calls for the four api-key endpoints, with retries, rate limiting and
/// lenient decoding.
///
/// One instance serves a whole process: it holds the credentials (which may arrive late,
/// from `initialize`) and the rate limiter that keeps the process under upstream's budget.
package final class InfrahubAPIClient: Sendable {
    private let transport: any InfrahubTransport
    private let configuration: InfrahubClientConfiguration
    private let logger: Logger
    private let credentials: Lock<UpstreamCredentials>
    private let retryPolicy: RetryPolicy
    private let rateLimiter: RequestRateLimiter

    /// - Parameter rateLimiter: the limiter of the upstream host, when other clients share
    ///   it; by default this client gets its own, with the configuration's budget.
    package init(
        transport: any InfrahubTransport, configuration: InfrahubClientConfiguration,
        rateLimiter: RequestRateLimiter? = nil, logger: Logger
    ) {
        self.transport = transport
        self.configuration = configuration
        self.logger = logger
        self.credentials = Lock(.none)
        self.retryPolicy = RetryPolicy(configuration)
        self.rateLimiter = rateLimiter ?? RequestRateLimiter(requestsPerMinute: configuration.requestsPerMinute)
    }

    /// Sets the API key (sent as `api_key`) and the access token (sent as `Authorization:
    /// Bearer`), clearing whichever is `nil`. An empty or all-blank one counts as none.
    package func setCredentials(_ credentials: UpstreamCredentials) {
        var usable = credentials
        for kind in CredentialKind.allCases where usable[kind]?.revealed.trimmingWhitespace().isEmpty == true {
            usable[kind] = nil
        }
        self.credentials.withLock { $0 = usable }
    }

    /// Puts each credential `initialize` brought in place of the one held, keeping the other.
    package func adoptCredentials(_ fromInitialize: UpstreamCredentials) {
        setCredentials(credentials.withLock { $0 }.overridden(by: fromInitialize))
    }

    var hasCredential: Bool { credentials.withLock { !$0.isEmpty } }

    /// `GET /api-key`. The records carry upstream's masked keys.
    package func listKeys() async throws(InfrahubError) -> [APIKeyRecord] {
        let (response, key) = try await perform(.list, body: nil)
        return try decode(.list, response, key) { body throws(APIKeyResponseDecoder.Failure) in
            try APIKeyResponseDecoder.decodeList(body)
        }
    }

    /// `POST /api-key/generate`. The secret in the result is shown by upstream this once.
    ///
    /// Repeated only when the previous attempt provably never reached Infrahub (connection
    /// refused) or was rate-limited: otherwise a repeat could create a second key.
    package func generateKey(name: String, description: String?) async throws(InfrahubError) -> GeneratedAPIKey {
        let (response, key) = try await perform(.generate, body: Self.payload(name: name, description: description))
        return try decode(.generate, response, key) { body throws(APIKeyResponseDecoder.Failure) in
            try APIKeyResponseDecoder.decodeGenerated(body)
        }
    }

    /// `PUT /api-key/{id}`. Upstream requires `name` even when only the description changes.
    package func updateKey(id: Int64, name: String, description: DescriptionUpdate) async throws(InfrahubError) -> APIKeyRecord {
        let call = InfrahubCall.update(id: id)
        let (response, key) = try await perform(call, body: Self.payload(name: name, description: description))
        return try decode(call, response, key) { body throws(APIKeyResponseDecoder.Failure) in
            try APIKeyResponseDecoder.decodeUpdated(body)
        }
    }

    /// `PUT /api-key/{id}`, where `nil` keeps the description.
    package func updateKey(id: Int64, name: String, description: String?) async throws(InfrahubError) -> APIKeyRecord {
        try await updateKey(id: id, name: name, description: DescriptionUpdate(description))
    }

    /// `DELETE /api-key/{id}`.
    ///
    /// When an earlier attempt went unanswered and a retry then finds no such key, the
    /// earlier attempt is taken to have deleted it, and the call succeeds.
    package func deleteKey(id: Int64) async throws(InfrahubError) {
        let call = InfrahubCall.delete(id: id)
        let (response, key) = try await perform(call, body: nil)
        guard let response else { return }
        try decode(call, response, key) { body throws(APIKeyResponseDecoder.Failure) in
            try APIKeyResponseDecoder.decodeDeleted(body)
        }
    }

    // MARK: - Wire

    /// `{"name": ..., "description": ...}` as the official SDK sends it; no `description` when nil.
    static func payload(name: String, description: String?) -> [UInt8] {
        payload(name: name, description: DescriptionUpdate(description))
    }

    /// The update body: `description` left out to keep it, `null` to clear it.
    static func payload(name: String, description: DescriptionUpdate) -> [UInt8] {
        var object: JSONObject = ["name": .string(name)]
        switch description {
        case .keep: break
        case .clear: object["description"] = .null
        case .set(let text): object["description"] = .string(text)
        }
        // Serialising strings into an object cannot fail; an empty body would be rejected upstream anyway.
        return (try? JSON.object(object).serialized()) ?? []
    }

    /// The header set every request carries: one credential, as `api_key: <key>` or
    /// `Authorization: Bearer <token>`. Its field is marked sensitive, which keeps it out of
    /// HPACK tables and out of every description of the request.
    static func headers(for call: InfrahubCall, credential: CredentialKind, secret: SecretString, version: String) -> HTTPFields {
        var field =
            switch credential {
            case .apiKey: HTTPField(name: .apiKey, value: secret.revealed)
            case .accessToken: HTTPField(name: .authorization, value: "Bearer " + secret.revealed)
            }
        field.indexingStrategy = .disallow
        var headers = HTTPFields([
            field,
            HTTPField(name: .accept, value: "application/json"),
            HTTPField(name: .userAgent, value: ClientIdentity.userAgent(version: version)),
            HTTPField(name: .hyperstackClient, value: ClientIdentity.clientHeader(version: version)),
        ])
        if call.method == .post || call.method == .put {
            headers[.contentType] = "application/json"
        }
        return headers
    }

    /// Sends `call` until it succeeds or the retry policy gives up.
    ///
    /// Returns the 2xx response, or nil for a delete whose key turned out to be gone after an
    /// unanswered attempt. Also returns the credentials held, for redacting errors.
    private func perform(_ call: InfrahubCall, body: [UInt8]?) async throws(InfrahubError) -> (
        InfrahubResponse?, UpstreamCredentials
    ) {
        let key = credentials.withLock { $0 }
        guard let chosen = call.credential(from: key) else { throw .missingCredential(for: call) }
        let (credential, secret) = chosen
        // HTTPTypes would quietly turn a line break into a space; a credential that is not a valid
        // header value is refused instead, before anything is sent (and it is never quoted).
        guard HTTPField.isValidValue(secret.revealed) else {
            throw InfrahubError.transport(
                .invalidHeaderValue, call: call, attempts: 1, timeout: configuration.requestTimeout
            ).redacting(key)
        }
        let request = InfrahubRequest(
            head: HTTPRequest(
                method: call.method, scheme: nil, authority: nil, path: call.path,
                headerFields: Self.headers(
                    for: call, credential: credential, secret: secret, version: configuration.clientVersion)),
            body: body)
        let clock = ContinuousClock()
        var sawUnansweredAttempt = false
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await rateLimiter.acquire()
            } catch {
                throw .cancelled(call)
            }
            let started = clock.now
            let outcome: RetryPolicy.Outcome
            var response: InfrahubResponse?
            do {
                let received = try await transport.send(request, timeout: configuration.requestTimeout)
                response = received
                outcome = .response(status: received.head.status.code)
            } catch {
                outcome = .transportFailure(error)
            }
            log(call, attempt: attempt, outcome: outcome, duration: clock.now - started)

            // An answer that arrived is used even if the caller was cancelled meanwhile:
            // dropping a generate response would lose the only copy of the new secret.
            if let response, (200...299).contains(response.head.status.code) {
                return (response, key)
            }
            if Task.isCancelled { throw .cancelled(call) }
            if case .delete = call, response?.head.status == .notFound, sawUnansweredAttempt {
                logger.debug(
                    "Infrahub key already gone after an unanswered delete; treating as deleted",
                    metadata: ["method": "\(call.method)", "path": "\(call.path)"])
                return (nil, key)
            }
            if case .transportFailure(let failure) = outcome {
                switch failure {
                case .timedOut, .responseTimedOut, .connectionLost: sawUnansweredAttempt = true
                case .connectionRefused, .unusableResponse, .invalidRequest, .other: break
                }
            }
            let retryAfter = RetryAfter.parse(
                response?.head.headerFields[fields: .retryAfter].first?.value, now: Self.unixTimeNow())
            guard retryPolicy.shouldRetry(call.retryKind, after: outcome, attempt: attempt) else {
                throw finalError(
                    call, outcome: outcome, response: response, attempts: attempt, retryAfter: retryAfter,
                    sentWith: credential, credentials: key
                ).redacting(key)
            }
            let delay = retryPolicy.delay(beforeRetry: attempt, retryAfter: retryAfter, jitter: Double.random(in: 0...1))
            if response?.head.status == .tooManyRequests {
                // The budget is the source address's: every caller of this host waits it out.
                rateLimiter.pause(for: delay)
            }
            UpstreamWaitReporting.report(
                UpstreamWait(
                    cause: Self.waitCause(outcome), delay: delay, attempt: (attempt + 1, retryPolicy.maxAttempts)))
            logger.debug(
                "Retrying Infrahub request",
                metadata: [
                    "method": "\(call.method)", "path": "\(call.path)", "attempt": "\(attempt)",
                    "delay_ms": "\(Self.milliseconds(delay))",
                ])
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw .cancelled(call)
            }
        }
    }

    /// Why a retry waits, for `UpstreamWaitReporting`.
    private static func waitCause(_ outcome: RetryPolicy.Outcome) -> UpstreamWait.Cause {
        switch outcome {
        case .response(status: 429): .rateLimited
        case .response(let status): .unavailable(status: status)
        case .transportFailure: .noAnswer
        }
    }

    private func finalError(
        _ call: InfrahubCall, outcome: RetryPolicy.Outcome, response: InfrahubResponse?, attempts: Int,
        retryAfter: Duration?, sentWith credential: CredentialKind, credentials: UpstreamCredentials
    ) -> InfrahubError {
        switch outcome {
        case .transportFailure(let failure):
            return .transport(failure, call: call, attempts: attempts, timeout: configuration.requestTimeout)
        case .response(let status):
            // Redacted as it is read, before an excerpt of a text body is cut.
            let body = UpstreamErrorBody(parsing: response?.body ?? [], redacting: credentials)
            return .http(
                status: status, body: body, call: call, attempts: attempts, retryAfter: retryAfter,
                sentWith: credential, configured: credentials)
        }
    }

    private func decode<Value>(
        _ call: InfrahubCall, _ response: InfrahubResponse?, _ key: UpstreamCredentials,
        _ decoder: ([UInt8]) throws(APIKeyResponseDecoder.Failure) -> Value
    ) throws(InfrahubError) -> Value {
        let response = response ?? InfrahubResponse(head: HTTPResponse(status: .ok))
        do {
            return try decoder(response.body)
        } catch {
            switch error {
            case .malformed(let what):
                throw InfrahubError.malformed(what, call: call, status: response.head.status.code).redacting(key)
            case .refused(let body):
                throw InfrahubError.refused(body, call: call, status: response.head.status.code).redacting(key)
            }
        }
    }

    /// One line per attempt; never headers or bodies (they carry the key and, for generate, the secret).
    private func log(_ call: InfrahubCall, attempt: Int, outcome: RetryPolicy.Outcome, duration: Duration) {
        var metadata: Logger.Metadata = [
            "method": "\(call.method)", "path": "\(call.path)", "attempt": "\(attempt)",
            "duration_ms": "\(Self.milliseconds(duration))",
        ]
        switch outcome {
        case .response(let status):
            metadata["status"] = "\(status)"
            logger.debug("Infrahub request finished", metadata: metadata)
        case .transportFailure(let failure):
            metadata["failure"] = "\(failure)"
            logger.debug("Infrahub request got no answer", metadata: metadata)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }

    /// Wall-clock seconds since the epoch, to turn a `Retry-After` HTTP-date into a wait.
    private static func unixTimeNow() -> Int64 {
        Int64(time(nil))
    }
}
