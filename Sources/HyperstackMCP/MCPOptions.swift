import SecureFiles

/// How an MCP server treats secrets: where generated secrets may be written, and whether the
/// user opted in to having them returned inline (`--mcp-inline-secrets`, unsafe with hosted
/// models: the secret then enters the model's context and the provider's logs).
package struct MCPOptions: Sendable, Equatable {
    package var secretFiles: SecretFilePolicy
    package var inlineSecrets: Bool

    package init(secretFiles: SecretFilePolicy, inlineSecrets: Bool) {
        self.secretFiles = secretFiles
        self.inlineSecrets = inlineSecrets
    }
}
