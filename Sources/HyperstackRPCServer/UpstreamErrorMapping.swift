import InfrahubClient
import JSONRPC
import JanssonJSON

/// The JSON-RPC error codes for upstream failures, one per `InfrahubError.Kind`.
package enum UpstreamErrorCode {
    package static let rejected = 1400
    package static let unauthorized = 1401
    package static let forbidden = 1403
    package static let notFound = 1404
    package static let conflict = 1409
    package static let rateLimited = 1429
    package static let serverError = 1500
    package static let malformedResponse = 1502
    package static let unreachable = 1503

    static func code(for kind: InfrahubError.Kind) -> Int {
        switch kind {
        case .rejected: return rejected
        case .unauthorized: return unauthorized
        case .forbidden: return forbidden
        case .notFound: return notFound
        case .conflict: return conflict
        case .rateLimited: return rateLimited
        case .serverError: return serverError
        case .malformedResponse: return malformedResponse
        case .unreachable: return unreachable
        }
    }
}

extension RPCError {
    /// The protocol error for an upstream failure: `error.data` is
    /// `{httpStatus?, reason?, upstreamMessage?, retryable}`.
    init(upstream error: InfrahubError) {
        var data: JSONObject = [:]
        if let status = error.httpStatus { data["httpStatus"] = .int(Int64(status)) }
        if let reason = error.reason { data["reason"] = .string(reason) }
        if let upstreamMessage = error.upstreamMessage { data["upstreamMessage"] = .string(upstreamMessage) }
        data["retryable"] = .bool(error.retryable)
        self.init(code: UpstreamErrorCode.code(for: error.kind), message: error.message, data: .object(data))
    }
}
