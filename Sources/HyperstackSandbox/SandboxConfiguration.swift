/// How a sandbox behaves: which keys it accepts, how many it holds, where it keeps them.
package struct SandboxConfiguration: Sendable {
    /// Raw API keys accepted in the `api_key` header, in addition to the secrets the
    /// sandbox generated itself. They stand in for keys made in the Hyperstack console,
    /// so they are never listed and never count towards `maxKeys`.
    package var apiKeys: [String]
    /// Generate answers 403 "Maximum API key limit reached" once this many keys exist.
    package var maxKeys: Int
    /// JSON file the keys survive restarts in; `nil` keeps everything in memory.
    /// Secrets are stored only as SHA-256 hashes, with the last four characters for masking.
    package var statePath: String?

    package init(apiKeys: [String], maxKeys: Int = 50, statePath: String? = nil) {
        self.apiKeys = apiKeys
        self.maxKeys = maxKeys
        self.statePath = statePath
    }
}
