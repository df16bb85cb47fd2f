import APIKeyStore
import Credentials
import HyperstackProtocol
import HyperstackRPCServer
import InfrahubClient
import JSONRPC
import Logging
import SecureFiles

/// The composition root: the one place that builds the server from `Settings`, and the one
/// place that puts a key store, a method table and a connection together.
///
/// What a process has once (the upstream transport, the Infrahub client, the key store and the
/// method table over it) is built here, in `init`. What each client has (a connection, and its
/// subscription to key changes) is a `HyperstackSession`, opened with `openSession`. A stdio
/// server opens one session (`serveStdio`), a one-shot call opens one for one request
/// (`call`), and a daemon can open many over the same store.
package final class HyperstackServer: Sendable {
    let settings: Settings
    let upstream: Upstream
    /// Where `apiKeys.generate {secretFile}` and MCP's `generate_api_key` may write secrets.
    let secretFiles: SecretFilePolicy
    let includeTestMethods: Bool
    private let methods: MethodTable
    private let logger: Logger
    /// A daemon's store: the credentials came with the sessions' hello, so `initialize` does
    /// not change them (a forwarder reconnects with the new key or token instead).
    private let isShared: Bool

    /// Builds the upstream side and the method table; a bad base URL, key or token throws here.
    /// `HYPERSTACK_RPC_TEST_METHODS=1` adds the test-only methods (see `TestOnlyMethods`).
    /// - Parameters:
    ///   - shared: for a store of the daemon, what it shares (see `SharedUpstream`).
    ///   - secretFiles: `--secrets-dir` and `--allow-secrets-in`; `nil` for the default secrets directory.
    package init(settings: Settings, shared: SharedUpstream? = nil, secretFiles: SecretFilePolicy? = nil, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        isShared = shared != nil
        upstream = try Upstream(settings: settings, shared: shared, logger: logger)
        let secretFiles = secretFiles ?? .standard(environment: Environment.value)
        self.secretFiles = secretFiles
        includeTestMethods = Environment.value(TestOnlyMethods.environmentVariable) == "1"
        methods = ServerMethods.table(store: upstream.store, includeTestMethods: includeTestMethods, secretFiles: secretFiles)
    }

    /// The store every session of this server shares.
    package var store: KeyStore { upstream.store }

    /// Opens a session for one client: a connection over the shared method table that writes to
    /// `sink`, subscribed to the store's changes until the session stops.
    /// - Parameters:
    ///   - framing: the input's framing; `auto` follows the client's first byte.
    ///   - events: what the host does when the client names its process or sends `exit`.
    ///   - limits: the session's own, where they differ from the server's settings (a daemon's
    ///     sessions each bring theirs); the poll interval is this session's demand.
    ///   - secretFiles: where this session's `apiKeys.generate {secretFile}` may write, where it
    ///     differs from the server's (a daemon's sessions each bring the client's); `nil`: the server's.
    package func openSession(
        framing: Framing, sink: any FrameSink, events: SessionEvents, limits: SessionLimits? = nil,
        secretFiles: SecretFilePolicy? = nil
    ) -> HyperstackSession {
        let client = upstream.client
        let applyCredentials = !isShared
        let session = LSPSession(
            onInitialize: { initialize in
                if applyCredentials, !initialize.credentials.isEmpty { client.adoptCredentials(initialize.credentials) }
                if let processID = initialize.processID { events.clientProcess(processID) }
            },
            onExit: { code in events.exit(code) })
        var methods = methods
        if let secretFiles, secretFiles != self.secretFiles {
            methods = ServerMethods.table(store: upstream.store, includeTestMethods: includeTestMethods, secretFiles: secretFiles)
        }
        return open(
            session, framing: framing, sink: sink, limits: limits ?? SessionLimits(settings: settings),
            methods: { pollDemand in ServerMethods.session(methods, pollDemand: pollDemand) },
            onChange: { connection, change in
                connection.notify(KeyChangeNotification.method, params: KeyChangeNotification.params(for: change))
            })
    }

    /// The wiring every session shares, whatever its protocol: the session's polling demand, a
    /// connection over its method table, and its subscription to the store's changes.
    func open(
        _ session: any RPCSession, framing: Framing, sink: any FrameSink, limits: SessionLimits,
        methods: (PollDemand) -> MethodTable, onChange: @escaping @Sendable (RPCConnection, KeyChange) -> Void
    ) -> HyperstackSession {
        let pollDemand = upstream.store.demandPolling(
            limits.pollInterval > 0 ? Duration(optionSeconds: limits.pollInterval) : nil)
        let connection = RPCConnection(
            configuration: ConnectionConfiguration(
                framing: framing, maxMessageBytes: limits.maxMessageBytes, maxInFlight: limits.maxInFlight),
            session: session,
            methods: methods(pollDemand),
            sink: sink,
            logger: logger)
        // Strong: the store holds this receiver, and with it the connection, only until the
        // session stops and cancels the subscription.
        let subscription = upstream.store.subscribe { change in onChange(connection, change) }
        return HyperstackSession(connection: connection, subscription: subscription, pollDemand: pollDemand)
    }

    /// Stops polling and closes upstream connections; for a process that ends on its own terms.
    package func shutdown() async {
        await upstream.shutdown()
    }
}

/// What one session may differ in from another on the same server.
package struct SessionLimits: Sendable, Equatable {
    package var maxMessageBytes: Int
    package var maxInFlight: Int
    /// Seconds; 0 asks for no polling.
    package var pollInterval: Double

    package init(maxMessageBytes: Int, maxInFlight: Int, pollInterval: Double) {
        self.maxMessageBytes = maxMessageBytes
        self.maxInFlight = maxInFlight
        self.pollInterval = pollInterval
    }

    init(settings: Settings) {
        self.init(maxMessageBytes: settings.maxMessageBytes, maxInFlight: settings.maxInFlight, pollInterval: settings.pollInterval)
    }
}
