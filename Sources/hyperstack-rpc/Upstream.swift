import APIKeyStore
import Foundation
import HyperstackRPCServer
import HyperstackSandbox
import InfrahubClient
import Logging
import SecureFiles

/// The upstream side of the server: the transport (real HTTP or the embedded sandbox),
/// the typed client and the key store, built from the settings.
struct Upstream {
    static let defaultBaseURL = "https://infrahub-api.nexgencloud.com/v1"

    let client: InfrahubAPIClient
    let store: KeyStore
    private let httpTransport: LazyTransport<AsyncHTTPTransport>?

    /// Builds everything. `onChange` receives every change of the key set.
    init(settings: Settings, logger: Logger, onChange: @escaping @Sendable (KeyChange) -> Void) throws {
        let requestTimeout = Duration(optionSeconds: settings.timeout)
        let transport: any InfrahubTransport
        var credential: SecretString?
        if settings.sandbox {
            // The embedded sandbox still checks api_key like the real API; it accepts a
            // random key made up for this process, so no user key is needed or exposed.
            let processKey = UUID().uuidString.lowercased()
            let sandbox = try Sandbox(
                configuration: SandboxConfiguration(apiKeys: [processKey], statePath: settings.sandboxState),
                logger: logger)
            transport = SandboxTransport(sandbox: sandbox)
            credential = SecretString(processKey)
            httpTransport = nil
        } else {
            let baseURL = settings.baseURL ?? Environment.value("HYPERSTACK_API_URL") ?? Self.defaultBaseURL
            let connectTimeout = min(Duration.seconds(10), requestTimeout)
            // A read that waits this long for the next bytes ends the exchange before the deadline.
            let readIdleTimeout = connectTimeout
            // Checked now, so a bad URL fails at startup; built when the first request needs it.
            let validatedBaseURL = try AsyncHTTPTransport.validatedBaseURL(baseURL)
            let http = LazyTransport {
                AsyncHTTPTransport(
                    baseURL: validatedBaseURL, connectTimeout: connectTimeout, readIdleTimeout: readIdleTimeout,
                    logger: logger)
            }
            transport = http
            httpTransport = http
            credential = try Self.credential(settings: settings)
        }
        client = InfrahubAPIClient(
            transport: transport,
            configuration: InfrahubClientConfiguration(
                clientVersion: ServerIdentity.version, requestTimeout: requestTimeout,
                requestsPerMinute: settings.rateLimit),
            logger: logger)
        client.setCredential(credential)
        let poll = settings.pollInterval > 0 ? Duration(optionSeconds: settings.pollInterval) : nil
        store = KeyStore(
            client: client,
            configuration: KeyStoreConfiguration(cacheTTL: Duration(optionSeconds: settings.cacheTTL), pollInterval: poll),
            logger: logger,
            onChange: onChange)
    }

    /// Stops polling and closes HTTP connections.
    func shutdown() async {
        await store.shutdown()
        try? await httpTransport?.ifMade?.shutdown()
    }

    /// The key from `--api-key-file`, else `HYPERSTACK_API_KEY`, else none (initialize may bring one).
    private static func credential(settings: Settings) throws -> SecretString? {
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

/// The upstream could not be set up from the options given.
struct UpstreamSetupError: Error, CustomStringConvertible {
    var description: String
}
