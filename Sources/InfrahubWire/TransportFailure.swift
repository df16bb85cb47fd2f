/// How carrying a request failed before a complete, usable HTTP response arrived.
///
/// The distinction matters for retries: only `connectionRefused` proves the request
/// never reached the server, so only it makes a non-idempotent call safe to repeat; and
/// `responseTimedOut`, `unusableResponse` and `invalidRequest` are never repeated, because a
/// repeat would fail the same way and only multiply the caller's wait. Every associated text is
/// our own fixed wording, never a library error's description (which may quote header values,
/// the API key among them).
package enum TransportFailure: Error, Sendable, Equatable {
    /// The connection could not be opened; the server never saw the request.
    case connectionRefused(String)
    /// No answer within the timeout; the server may have acted on the request.
    case timedOut(String)
    /// The status and headers arrived, but the body did not complete within the timeout (it
    /// trickled, or went idle). The server is up but its answer is not coming: not retried.
    case responseTimedOut(String)
    /// The connection broke after the request may have been sent.
    case connectionLost(String)
    /// An answer arrived that cannot be used however often it is asked for, such as a body over
    /// the size limit (mapped to 1502, not retried).
    case unusableResponse(String)
    /// The request cannot be sent as it is, e.g. a header value that is not valid HTTP or a base
    /// URL the client cannot use. Nothing reached the server; a repeat fails the same way.
    case invalidRequest(String)
    /// Anything else (TLS failure, an answer that is not HTTP, ...).
    case other(String)

    /// Whether the request provably never reached the server, so that even a generate may be repeated.
    package var neverSent: Bool {
        switch self {
        case .connectionRefused, .invalidRequest: return true
        case .timedOut, .responseTimedOut, .connectionLost, .unusableResponse, .other: return false
        }
    }

    /// Whether sending the same request again is pointless: it would fail the same way, or
    /// (a stalled body) only make the caller wait another full timeout for the same server.
    package var isFinal: Bool {
        switch self {
        case .responseTimedOut, .unusableResponse, .invalidRequest: return true
        case .connectionRefused, .timedOut, .connectionLost, .other: return false
        }
    }
}
