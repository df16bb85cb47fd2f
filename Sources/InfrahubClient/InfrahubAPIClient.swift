import Logging

/// Configuration of the typed Infrahub client.
public struct InfrahubClientConfiguration: Sendable {
    /// Sent as `User-Agent: hyperstack-rpc/<version> (...)` and `Hyperstack-Client: hyperstack-rpc/<version>`.
    public var clientVersion: String
    /// Per-request timeout (connect timeouts are the transport's business).
    public var requestTimeout: Duration
    /// Most tries per call, including the first.
    public var maxAttempts: Int
    /// First backoff delay; doubles each retry, with jitter.
    public var initialBackoff: Duration
    /// Longest wait honoured from a `Retry-After` header or a backoff.
    public var maxBackoff: Duration
    /// Client-side cap on requests per minute (upstream allows 500 per source IP).
    public var requestsPerMinute: Int

    public init(
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
/// lenient decoding. SKELETON: the real implementation replaces these bodies.
public final class InfrahubAPIClient: Sendable {
    public init(transport: any InfrahubTransport, configuration: InfrahubClientConfiguration, logger: Logger) {}

    /// Sets or clears the API key sent as `api_key` (it may arrive late, from `initialize`).
    public func setCredential(_ credential: SecretString?) {}

    public var hasCredential: Bool { false }

    /// `GET /api-key`.
    public func listKeys() async throws(InfrahubError) -> [APIKeyRecord] { throw Self.notYet }

    /// `POST /api-key/generate`.
    public func generateKey(name: String, description: String?) async throws(InfrahubError) -> GeneratedAPIKey { throw Self.notYet }

    /// `PUT /api-key/{id}`.
    public func updateKey(id: Int64, name: String, description: String?) async throws(InfrahubError) -> APIKeyRecord { throw Self.notYet }

    /// `DELETE /api-key/{id}`.
    public func deleteKey(id: Int64) async throws(InfrahubError) { throw Self.notYet }

    private static let notYet = InfrahubError(kind: .unreachable, message: "not implemented yet", retryable: false)
}
