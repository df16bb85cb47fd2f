import Credentials
import InfrahubClient
import JSONRPCStdio
import SecureFiles

/// The API key the server starts with: from `--api-key-file`, else `HYPERSTACK_API_KEY`, else
/// none (initialize may bring one). Validated where it is loaded, and never named in an error.
package enum UpstreamCredential {
    package static func load(settings: Settings) throws -> SecretString? {
        if let path = settings.apiKeyFile {
            let contents: String
            do {
                // No symlinks, ours, a regular file; readable by others is a warning, as ssh gives.
                let secret = try SecureFile.readSecret(path, role: "API key file")
                if let warning = secret.warning { StandardError.write("hyperstack-rpc: \(warning)\n") }
                contents = String(decoding: secret.bytes, as: UTF8.self)
            } catch {
                throw UpstreamSetupError(description: "\(error)")
            }
            // Validated where it is loaded: one line of visible ASCII, optionally ending in a newline.
            return try validated(contents, from: .file(path: path))
        }
        // An empty variable counts as unset, as in shells; anything else must be a valid key, and
        // a bad one stops the start-up rather than falling through to initialize's key or none.
        if let value = Environment.value("HYPERSTACK_API_KEY"), !value.isEmpty {
            return try validated(value, from: .environment(variable: "HYPERSTACK_API_KEY"))
        }
        return nil
    }

    /// The key, or a start-up error that names its source and never its value.
    private static func validated(_ text: String, from source: CredentialSource) throws -> SecretString {
        do {
            return try SecretString(validatingAPIKey: text, from: source)
        } catch {
            throw UpstreamSetupError(description: error.description)
        }
    }
}

/// The upstream could not be set up from the options given: the message says which option
/// or variable to fix.
struct UpstreamSetupError: Error, CustomStringConvertible {
    var description: String
}
