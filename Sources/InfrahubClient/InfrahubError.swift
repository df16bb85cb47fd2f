/// A failed Infrahub call, classified so callers can map it to a protocol error.
package struct InfrahubError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; each maps to one JSON-RPC error code.
    package enum Kind: Sendable, Equatable {
        /// 401, or no API key configured (1401).
        case unauthorized
        /// 403 (1403).
        case forbidden
        /// 404 (1404).
        case notFound
        /// 409 (1409).
        case conflict
        /// 429 after retries (1429).
        case rateLimited
        /// Any other 4xx: upstream rejected the request (1400).
        case rejected
        /// 5xx after retries (1500).
        case serverError
        /// Upstream answered with something we cannot parse (1502).
        case malformedResponse
        /// Upstream could not be reached, or did not answer in time (1503).
        case unreachable
    }

    package var kind: Kind
    /// A sentence for a person reading an editor's output pane. Never holds a secret.
    package var message: String
    package var httpStatus: Int?
    /// Upstream's `error_reason`, when it sent one.
    package var reason: String?
    /// Upstream's own `message`, when it sent one.
    package var upstreamMessage: String?
    /// Whether repeating the same call later may succeed.
    package var retryable: Bool

    package init(
        kind: Kind, message: String, httpStatus: Int? = nil, reason: String? = nil,
        upstreamMessage: String? = nil, retryable: Bool
    ) {
        self.kind = kind
        self.message = message
        self.httpStatus = httpStatus
        self.reason = reason
        self.upstreamMessage = upstreamMessage
        self.retryable = retryable
    }

    package var description: String { message }
}
