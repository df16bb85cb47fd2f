import Credentials
import InfrahubClient
import JSONRPCStdio
import SecureFiles

/// The credentials the server starts with, each from its file option, else its environment
/// variable, else none (initialize may bring one): the API key from `--api-key-file` or
/// `HYPERSTACK_API_KEY`, the access token from `--access-token-file` or `HYPERSTACK_ACCESS_TOKEN`.
/// Validated where they are loaded, and never named in an error.
extension UpstreamCredentials {
    package static func load(settings: Settings) throws -> UpstreamCredentials {
        var credentials = UpstreamCredentials.none
        for credential in CredentialKind.allCases {
            let file = credential == .apiKey ? settings.apiKeyFile : settings.accessTokenFile
            credentials[credential] = try load(credential, file: file)
        }
        return credentials
    }

    /// One credential, from `file` when given, else from its environment variable.
    private static func load(_ credential: CredentialKind, file: String?) throws -> SecretString? {
        if let path = file {
            let contents: String
            do {
                // No symlinks, ours, a regular file; readable by others is a warning, as ssh gives.
                let secret = try SecureFile.readSecret(path, role: "\(credential.name) file")
                if let warning = secret.warning { StandardError.write("hyperstack-rpc: \(warning)\n") }
                contents = String(decoding: secret.bytes, as: UTF8.self)
            } catch {
                throw UpstreamSetupError(description: "\(error)")
            }
            // Validated where it is loaded: one line of visible ASCII, optionally ending in a newline.
            return try validated(contents, as: credential, from: .file(path: path))
        }
        // An empty variable counts as unset, as in shells; anything else must be valid, and a bad
        // one stops the start-up rather than falling through to initialize's or none.
        let variable = credential.environmentVariable
        if let value = Environment.value(variable), !value.isEmpty {
            return try validated(value, as: credential, from: .environment(variable: variable))
        }
        return nil
    }

    /// The credential, or a start-up error that names its source and never its value.
    private static func validated(_ text: String, as credential: CredentialKind, from source: CredentialSource) throws -> SecretString {
        do {
            return try SecretString(validating: text, as: credential, from: source)
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
