import Credentials
import HTTPTypes

/// One of the four api-key calls: what goes on the wire, how safe it is to repeat,
/// and how a person would name it in an error message.
enum InfrahubCall: Sendable, Equatable {
    case list
    case generate
    case update(id: Int64)
    case delete(id: Int64)

    var method: HTTPRequest.Method {
        switch self {
        case .list: return .get
        case .generate: return .post
        case .update: return .put
        case .delete: return .delete
        }
    }

    var path: String {
        switch self {
        case .list: return "/api-key"
        case .generate: return "/api-key/generate"
        case .update(let id), .delete(let id): return "/api-key/\(id)"
        }
    }

    /// The credential this call is sent with when both are configured. Generate takes the
    /// access token: Infrahub's OpenAPI document gives it that scheme alone. Every other call
    /// takes the API key, as every SDK sends it (the document allows either there), so the
    /// token, the stronger credential, goes on the wire only where it is needed.
    var preferredCredential: CredentialKind {
        self == .generate ? .accessToken : .apiKey
    }

    /// The one credential the request carries: the preferred one, else the other, else none.
    func credential(from credentials: UpstreamCredentials) -> (kind: CredentialKind, secret: SecretString)? {
        let other: CredentialKind = preferredCredential == .apiKey ? .accessToken : .apiKey
        for kind in [preferredCredential, other] {
            if let secret = credentials[kind] { return (kind, secret) }
        }
        return nil
    }

    var retryKind: RetryPolicy.CallKind {
        self == .generate ? .generate : .idempotent
    }

    /// Opens every error message, e.g. "Updating API key 12 failed".
    var failurePrefix: String {
        switch self {
        case .list: return "Listing API keys failed"
        case .generate: return "Generating an API key failed"
        case .update(let id): return "Updating API key \(id) failed"
        case .delete(let id): return "Deleting API key \(id) failed"
        }
    }

    var notFoundExplanation: String {
        switch self {
        case .update(let id), .delete(let id): return "Infrahub has no API key with id \(id) (HTTP 404)."
        case .list, .generate: return "Infrahub has no such endpoint (HTTP 404); check the base URL."
        }
    }
}
