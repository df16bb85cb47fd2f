/// Which of Infrahub's two credentials a secret is. They are loaded, validated, kept and redacted
/// the same way, so one type names them; they differ in the header they travel in and in what a
/// person must do to configure them, which is what this type says.
package enum CredentialKind: Sendable, Equatable, Hashable, CaseIterable {
    /// An API key, sent as `api_key: <key>`: what every official SDK sends, on every call.
    case apiKey
    /// A console access token, sent as `Authorization: Bearer <token>`: the only scheme Infrahub's
    /// OpenAPI document gives `POST /api-key/generate`.
    case accessToken

    /// "API key", as a sentence names it.
    package var name: String {
        switch self {
        case .apiKey: return "API key"
        case .accessToken: return "access token"
        }
    }

    /// The member of `initialize`'s `initializationOptions` (and of the daemon's hello) that carries it.
    package var optionsMember: String {
        switch self {
        case .apiKey: return "apiKey"
        case .accessToken: return "accessToken"
        }
    }

    /// The environment variable a server reads it from.
    package var environmentVariable: String {
        switch self {
        case .apiKey: return "HYPERSTACK_API_KEY"
        case .accessToken: return "HYPERSTACK_ACCESS_TOKEN"
        }
    }

    /// The option that names a file holding it.
    package var fileOption: String {
        switch self {
        case .apiKey: return "--api-key-file"
        case .accessToken: return "--access-token-file"
        }
    }

    /// The three ways to configure it, as a sentence: what an error about it tells a person to do.
    package var configurationHelp: String {
        "Set \(environmentVariable), pass \(fileOption) PATH, or send initializationOptions.\(optionsMember) in initialize"
    }
}
