import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Sorts AsyncHTTPClient and SwiftNIO errors by what they prove about the request.
///
/// Only failures before a connection existed become `connectionRefused`: those are the
/// ones after which a non-idempotent call may safely be repeated.
extension TransportFailure {
    static func classifying(_ error: any Error) -> TransportFailure {
        switch error {
        case let error as TransportFailure:
            return error
        case let error as HTTPClientError:
            return classifying(error)
        case let error as NIOConnectionError:
            return .connectionRefused(describeConnectionError(error))
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return .connectionRefused("connect timed out")
            case .ioOnClosedChannel, .eof, .outputClosed, .inputClosed, .alreadyClosed:
                return .connectionLost("connection closed (\(error))")
            default: return .other("\(error)")
            }
        case let error as IOError:
            return classifying(errno: error.errnoCode, description: "\(error)")
        case is CancellationError:
            return .other("cancelled")
        default:
            return .other(String(describing: error))
        }
    }

    private static func classifying(_ error: HTTPClientError) -> TransportFailure {
        switch error {
        case .connectTimeout, .getConnectionFromPoolTimeout:
            return .connectionRefused("could not open a connection in time")
        case .deadlineExceeded:
            return .timedOut("no complete response before the deadline")
        case .readTimeout:
            return .timedOut("read timed out")
        case .writeTimeout:
            return .timedOut("write timed out")
        case .remoteConnectionClosed:
            return .connectionLost("the server closed the connection")
        case .cancelled:
            return .other("cancelled")
        default:
            return .other(error.description)
        }
    }

    private static func classifying(errno code: Int32, description: String) -> TransportFailure {
        switch code {
        case ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL:
            return .connectionRefused(description)
        case ECONNRESET, EPIPE, ECONNABORTED:
            return .connectionLost(description)
        case ETIMEDOUT:
            return .timedOut(description)
        default:
            return .other(description)
        }
    }

    private static func describeConnectionError(_ error: NIOConnectionError) -> String {
        if let first = error.connectionErrors.first {
            return "cannot connect to \(error.host):\(error.port): \(first.error)"
        }
        if let dns = error.dnsAError ?? error.dnsAAAAError {
            return "cannot resolve \(error.host): \(dns)"
        }
        return "cannot connect to \(error.host):\(error.port)"
    }
}
