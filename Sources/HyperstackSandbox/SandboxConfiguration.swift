/// How a sandbox behaves: which keys and tokens it accepts, how many keys it holds, where it
/// keeps them, and whether generate takes the OpenAPI document's strict reading.
package struct SandboxConfiguration: Sendable {
    /// Raw API keys accepted in the `api_key` header, in addition to the secrets the
    /// sandbox generated itself. They stand in for keys made in the Hyperstack console,
    /// so they are never listed and never count towards `maxKeys`.
    package var apiKeys: [String]
    /// Raw access tokens accepted as `Authorization: Bearer <token>`, on every route: they
    /// stand in for console session tokens.
    package var accessTokens: [String]
    /// Generate accepts only an access token, as Infrahub's OpenAPI document lists it (the
    /// `accessToken` scheme alone); an `api_key`-only request gets 401 `unauthorized`. Off,
    /// generate accepts either, as the official SDKs assume.
    package var generateRequiresAccessToken: Bool
    /// Generate answers 403 "Maximum API key limit reached" once this many keys exist.
    package var maxKeys: Int
    /// JSON file the keys survive restarts in; `nil` keeps everything in memory.
    /// Secrets are stored only as SHA-256 hashes, with the last four characters for masking.
    package var statePath: String?

    package init(
        apiKeys: [String], accessTokens: [String] = [], generateRequiresAccessToken: Bool = false, maxKeys: Int = 50,
        statePath: String? = nil
    ) {
        self.apiKeys = apiKeys
        self.accessTokens = accessTokens
        self.generateRequiresAccessToken = generateRequiresAccessToken
        self.maxKeys = maxKeys
        self.statePath = statePath
    }
}
