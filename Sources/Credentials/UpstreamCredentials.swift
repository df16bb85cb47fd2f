/// What a server authenticates to Infrahub with: an API key, an access token, both or neither.
///
/// Two, because upstream's documents disagree: every official SDK sends the API key for every
/// call, while the OpenAPI document gives `POST /api-key/generate` only the access-token scheme.
/// Both travel together, from where they are loaded to the HTTP client and the daemon, so every
/// path that carries one carries the other, and none can forget to redact one of them.
package struct UpstreamCredentials: Sendable, Equatable, Hashable, CustomStringConvertible {
    package var apiKey: SecretString?
    package var accessToken: SecretString?

    package init(apiKey: SecretString? = nil, accessToken: SecretString? = nil) {
        self.apiKey = apiKey
        self.accessToken = accessToken
    }

    /// No credential at all.
    package static let none = UpstreamCredentials()

    /// The credential of one kind.
    package subscript(kind: CredentialKind) -> SecretString? {
        get {
            switch kind {
            case .apiKey: return apiKey
            case .accessToken: return accessToken
            }
        }
        set {
            switch kind {
            case .apiKey: apiKey = newValue
            case .accessToken: accessToken = newValue
            }
        }
    }

    package var isEmpty: Bool { apiKey == nil && accessToken == nil }

    /// These credentials with each one `newer` holds in place of ours: `initialize` brings a
    /// token, and the key from the environment stays.
    package func overridden(by newer: UpstreamCredentials) -> UpstreamCredentials {
        UpstreamCredentials(apiKey: newer.apiKey ?? apiKey, accessToken: newer.accessToken ?? accessToken)
    }

    /// Every secret held, for redaction.
    package var secrets: [SecretString] { [apiKey, accessToken].compactMap { $0 } }

    /// Which kinds are configured, never their values: "API key and access token".
    package var description: String {
        let kinds = CredentialKind.allCases.filter { self[$0] != nil }.map(\.name)
        return kinds.isEmpty ? "no credential" : kinds.joined(separator: " and ")
    }
}
