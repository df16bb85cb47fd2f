import HTTPTypes
import InfrahubWire
import JanssonJSON

/// Bodies shaped like upstream's, so the client under test parses exactly what it will
/// meet in production.
enum SandboxResponses {
    /// What a misconfigured proxy in front of the API might send instead of JSON.
    static let malformedBody = "<html><head><title>Hyperstack</title></head><body>Service temporarily unavailable</body></html>"

    static func bytes(_ json: JSON) -> [UInt8] {
        // Serialising only fails for non-finite reals, which these bodies never hold.
        (try? json.serialized()) ?? Array(#"{"status":false,"message":"Internal Server Error","error_reason":"server_error"}"#.utf8)
    }

    static func json(_ status: HTTPResponse.Status, _ body: JSON, extraHeaders: HTTPFields = [:]) -> InfrahubResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extraHeaders)
        return InfrahubResponse(head: HTTPResponse(status: status, headerFields: headers), body: bytes(body))
    }

    /// The documented error body `{status: false, message, error_reason}`.
    static func error(
        _ status: HTTPResponse.Status, _ message: String, reason: String, extraHeaders: HTTPFields = [:]
    ) -> InfrahubResponse {
        json(status, ["status": false, "message": .string(message), "error_reason": .string(reason)], extraHeaders: extraHeaders)
    }

    /// The `error_reason` upstream uses for a status.
    static func reason(for status: Int) -> String {
        switch status {
        case 400: return "bad_request"
        case 401: return "unauthorized"
        case 403: return "forbidden"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 409: return "already_exist"
        case 429: return "too_many_requests"
        case 500...599: return "server_error"
        default: return "error"
        }
    }

    /// Default body of an injected status fault.
    static func faultBody(status: Int) -> JSON {
        if status < 400 {
            return ["status": true, "message": .string("Injected fault: HTTP \(status)")]
        }
        let message = status == 429 ? "Too many requests" : "Injected fault: HTTP \(status)"
        return ["status": false, "message": .string(message), "error_reason": .string(reason(for: status))]
    }
}
