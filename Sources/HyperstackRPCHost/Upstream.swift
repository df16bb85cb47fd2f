import APIKeyStore
import Credentials
import Foundation
import HyperstackRPCServer
import HyperstackSandbox
import InfrahubClient
import InfrahubWire
import Logging

/// The upstream side of the server: the transport (real HTTP or the embedded sandbox),
/// the typed client and the key store, built from the settings. One per process, shared
/// by every session.
package struct Upstream: Sendable {
    static let defaultBaseURL = "https://infrahub-api.nexgencloud.com/v1"

    let client: InfrahubAPIClient
    let store: KeyStore
    /// The embedded sandbox with `--sandbox`, else `nil`.
    let sandbox: Sandbox?
    private let httpTransport: LazyTransport<AsyncHTTPTransport>?

    /// Builds everything; a bad base URL, API key or access token stops the start-up here.
    /// - Parameter shared: for a daemon's store, the credentials its sessions brought and the
    ///   rate limiter of the upstream host; `nil` for a process of its own, which loads the
    ///   credentials from the options and has a limiter to itself.
    init(settings: Settings, shared: SharedUpstream? = nil, logger: Logger) throws {
        let requestTimeout = Duration(optionSeconds: settings.timeout)
        let transport: any InfrahubTransport
        var credentials = UpstreamCredentials.none
        if settings.sandbox {
            // The embedded sandbox still checks api_key like the real API; it accepts a
            // random key made up for this process, so no user key is needed or exposed.
            let processKey = UUID().uuidString.lowercased()
            let sandbox = try Sandbox(
                configuration: SandboxConfiguration(apiKeys: [processKey], statePath: settings.sandboxState),
                logger: logger)
            transport = SandboxTransport(sandbox: sandbox)
            credentials = UpstreamCredentials(apiKey: SecretString(processKey))
            self.sandbox = sandbox
            httpTransport = nil
        } else {
            let baseURL = Self.baseURL(settings: settings)
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
            sandbox = nil
            credentials = try shared.map { $0.credentials } ?? UpstreamCredentials.load(settings: settings)
        }
        client = InfrahubAPIClient(
            transport: transport,
            configuration: InfrahubClientConfiguration(
                clientVersion: ServerIdentity.version, requestTimeout: requestTimeout,
                requestsPerMinute: settings.rateLimit),
            rateLimiter: shared?.rateLimiter,
            logger: logger)
        client.setCredentials(credentials)
        // A shared store polls only as its sessions' demands ask (see PollDemand).
        let poll = settings.pollInterval > 0 && shared == nil ? Duration(optionSeconds: settings.pollInterval) : nil
        store = KeyStore(
            client: client,
            configuration: KeyStoreConfiguration(
                cacheTTL: Duration(optionSeconds: settings.cacheTTL), pollInterval: poll,
                // A daemon's store may replace one a dead daemon had: its forwarders' clients hold
                // revisions of that one. Milliseconds since 1970 outgrow any count of changes
                // (upstream allows 500 requests a minute), so revisions keep going up.
                revisionBase: shared == nil ? 0 : Int64(Date().timeIntervalSince1970 * 1000)),
            logger: logger)
    }

    /// The base URL requests go to: the option, else `HYPERSTACK_API_URL`, else Infrahub's.
    package static func baseURL(settings: Settings) -> String {
        settings.baseURL ?? Environment.value("HYPERSTACK_API_URL") ?? defaultBaseURL
    }

    /// Stops polling and closes HTTP connections.
    func shutdown() async {
        await store.shutdown()
        try? await httpTransport?.ifMade?.shutdown()
    }
}

/// What a daemon's stores share with each other, or bring from their sessions: the
/// credentials (from the session's hello, never from the daemon's own environment) and the
/// rate limiter of the upstream host.
package struct SharedUpstream: Sendable {
    package var credentials: UpstreamCredentials
    package var rateLimiter: RequestRateLimiter

    package init(credentials: UpstreamCredentials, rateLimiter: RequestRateLimiter) {
        self.credentials = credentials
        self.rateLimiter = rateLimiter
    }
}
