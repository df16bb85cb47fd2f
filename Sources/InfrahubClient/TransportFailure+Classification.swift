import AsyncHTTPClient
import InfrahubWire
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Sorts AsyncHTTPClient and SwiftNIO errors by what they prove about the request, and words
/// each in our own fixed text.
///
/// Only failures before a connection existed become `connectionRefused`: those are the
/// ones after which a non-idempotent call may safely be repeated. No library error's
/// `description` is ever kept: some quote what was sent (`invalidHeaderFieldValues` quotes
/// the header values, the API key among them), and all of them read as Swift, not as advice.
extension TransportFailure {
    /// A header value with a control character or a line break: refused by AsyncHTTPClient, and by
    /// the client itself before HTTPTypes could quietly turn the character into a space.
    static let invalidHeaderValue = TransportFailure.invalidRequest(
        "a header value is not valid HTTP (it holds a control character or a line break)")

    static func classifying(_ error: any Error) -> TransportFailure {
        switch error {
        case let error as TransportFailure:
            return error
        case let error as HTTPClientError:
            return classifying(error)
        case let error as NIOTooManyBytesError:
            return tooLarge(maxBytes: error.maxBytes)
        case let error as NIOConnectionError:
            return .connectionRefused(describeConnectionError(error))
        case let error as ChannelError:
            return classifying(error)
        case let error as IOError:
            return classifying(errno: error.errnoCode)
        case is HTTPParserError:
            return .other("the answer was not valid HTTP")
        case is CancellationError:
            return .other("cancelled")
        default:
            // The type's name only: it carries no values, so nothing that was sent or received.
            return .other("an unexpected \(String(reflecting: type(of: error))) error")
        }
    }

    /// The failure for a body over `maxBytes`.
    static func tooLarge(maxBytes: Int?) -> TransportFailure {
        guard let maxBytes else { return .unusableResponse("its body is larger than this client accepts") }
        let mebibyte = 1024 * 1024
        let limit = maxBytes % mebibyte == 0 ? "\(maxBytes / mebibyte) MiB" : "\(maxBytes) bytes"
        return .unusableResponse("its body is larger than \(limit), the most this client accepts")
    }

    /// Errors met while the body streams in: the head has arrived, so a timeout there means
    /// the body stalled, and is not worth repeating.
    static func classifyingBody(_ error: any Error) -> TransportFailure {
        if let error = error as? HTTPClientError, error == .readTimeout || error == .deadlineExceeded {
            return .responseTimedOut("its body stalled")
        }
        return classifying(error)
    }

    private static func classifying(_ error: HTTPClientError) -> TransportFailure {
        switch error {
        case .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout,
            .httpProxyHandshakeTimeout:
            return .connectionRefused("could not open a connection in time")
        case .deadlineExceeded:
            return .timedOut("no complete response before the deadline")
        case .readTimeout:
            return .timedOut("read timed out")
        case .writeTimeout:
            return .timedOut("write timed out")
        case .remoteConnectionClosed:
            return .connectionLost("the server closed the connection")
        case .uncleanShutdown:
            return .connectionLost("the connection ended uncleanly")
        case .cancelled, .requestStreamCancelled:
            return .other("cancelled")
        case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
            return .invalidRequest("the base URL cannot be used")
        case .traceRequestWithBody, .bodyLengthMismatch, .writeAfterRequestSent, .identityCodingIncorrectlyPresent:
            return .invalidRequest("the request is not valid HTTP")
        case .alreadyShutdown, .shutdownUnsupported:
            return .invalidRequest("the HTTP client has shut down")
        case .invalidProxyResponse, .proxyAuthenticationRequired:
            return .other("the proxy refused the connection")
        case .contentLengthMissing:
            return .other("the answer was not valid HTTP")
        default:
            break
        }
        // Cases with associated values cannot be matched by equality; `shortDescription` names
        // the case without its values (it is only compared, never shown).
        switch error.shortDescription {
        case HTTPClientError.invalidHeaderFieldValues([]).shortDescription:
            return invalidHeaderValue
        case HTTPClientError.invalidHeaderFieldNames([]).shortDescription:
            return .invalidRequest("a header name is not valid HTTP")
        case HTTPClientError.unsupportedScheme("").shortDescription:
            return .invalidRequest("the base URL's scheme is not http or https")
        case HTTPClientError.serverOfferedUnsupportedApplicationProtocol("").shortDescription:
            return .other("the server offered an unsupported protocol")
        default:
            return .other("the HTTP client failed unexpectedly")
        }
    }

    private static func classifying(_ error: ChannelError) -> TransportFailure {
        switch error {
        case .connectTimeout: return .connectionRefused("connect timed out")
        case .ioOnClosedChannel, .eof, .outputClosed, .inputClosed, .alreadyClosed:
            return .connectionLost("the connection closed")
        default: return .other("the connection failed")
        }
    }

    private static func classifying(errno code: Int32) -> TransportFailure {
        switch code {
        case ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL:
            return .connectionRefused(phrase(errno: code))
        case ECONNRESET, EPIPE, ECONNABORTED:
            return .connectionLost(phrase(errno: code))
        case ETIMEDOUT:
            return .timedOut(phrase(errno: code))
        default:
            return .other(phrase(errno: code))
        }
    }

    /// Our words for an errno, with its number (a number carries nothing that was sent).
    static func phrase(errno code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ENETUNREACH: return "network unreachable"
        case EHOSTUNREACH: return "host unreachable"
        case EADDRNOTAVAIL: return "address not available"
        case ECONNRESET: return "connection reset"
        case EPIPE: return "connection closed while sending"
        case ECONNABORTED: return "connection aborted"
        case ETIMEDOUT: return "connection timed out"
        default: return "system error \(code)"
        }
    }

    private static func describeConnectionError(_ error: NIOConnectionError) -> String {
        let place = "\(error.host):\(error.port)"
        if let first = error.connectionErrors.first {
            switch first.error {
            case let io as IOError: return "cannot connect to \(place): \(phrase(errno: io.errnoCode))"
            case ChannelError.connectTimeout: return "cannot connect to \(place): connect timed out"
            default: return "cannot connect to \(place)"
            }
        }
        if error.dnsAError != nil || error.dnsAAAAError != nil {
            return "cannot resolve \(error.host)"
        }
        return "cannot connect to \(place)"
    }
}
