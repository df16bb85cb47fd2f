import APIKeyStore
import Credentials
import HyperstackSandbox
import InfrahubClient
import Locking
import LogCaptureSupport
import Logging
import Synchronization

/// A key store wired to a real embedded sandbox, plus a second client on the same sandbox that
/// stands for changes made elsewhere (the console, another process).
struct KeyStoreFixture {
    static let apiKey = "sandbox-test-key-5f0c2a7e-91d4-4c55-b1aa-3c8e21f0be9a"

    let sandbox: Sandbox
    let store: KeyStore
    let outsider: InfrahubAPIClient
    let changes: ChangeRecorder
    let logs: LogCapture
    /// Feeds `changes` for as long as the fixture lives.
    let subscription: KeyChangeSubscription

    init(
        cacheTTL: Duration = .seconds(60),
        pollInterval: Duration? = nil,
        maxPollBackoff: Duration = .seconds(300),
        requestTimeout: Duration = .seconds(10),
        maxAttempts: Int = 1
    ) throws {
        let logs = LogCapture()
        let logger = logs.logger(label: "APIKeyStoreTests")
        let sandbox = try Sandbox(configuration: SandboxConfiguration(apiKeys: [Self.apiKey]), logger: logger)
        // One attempt per call by default: a fault injected for a request must surface, not be retried away.
        let clientConfiguration = InfrahubClientConfiguration(
            clientVersion: "0.1.0-test", requestTimeout: requestTimeout, maxAttempts: maxAttempts,
            initialBackoff: .milliseconds(50), requestsPerMinute: 100_000)
        let client = InfrahubAPIClient(transport: SandboxTransport(sandbox: sandbox), configuration: clientConfiguration, logger: logger)
        client.setCredentials(UpstreamCredentials(apiKey: SecretString(Self.apiKey)))
        let outsider = InfrahubAPIClient(
            transport: SandboxTransport(sandbox: sandbox), configuration: clientConfiguration, logger: Logger(label: "outsider") { _ in SwiftLogNoOpLogHandler() })
        outsider.setCredentials(UpstreamCredentials(apiKey: SecretString(Self.apiKey)))
        let changes = ChangeRecorder()
        self.sandbox = sandbox
        self.outsider = outsider
        self.changes = changes
        self.logs = logs
        let store = KeyStore(
            client: client,
            configuration: KeyStoreConfiguration(cacheTTL: cacheTTL, pollInterval: pollInterval, maxPollBackoff: maxPollBackoff),
            logger: logger)
        self.store = store
        self.subscription = store.subscribe { change in changes.record(change) }
    }

    /// Upstream requests the sandbox has seen for `route` (including faulted ones).
    func requests(_ route: SandboxRoute) async -> Int {
        await sandbox.stats()[route]
    }

    /// Every request the sandbox has seen, over all routes.
    func totalRequests() async -> Int {
        let stats = await sandbox.stats()
        return SandboxRoute.allCases.reduce(stats.unrouted) { $0 + stats[$1] }
    }
}

/// Collects the changes the store announces, plus free-form markers, in the order they happen.
final class ChangeRecorder: Sendable {
    enum Event: Equatable, Sendable {
        case change(KeyChange)
        case marker(String)
    }

    private let events = Lock<[Event]>([])

    func record(_ change: KeyChange) { events.withLock { $0.append(.change(change)) } }
    func mark(_ text: String) { events.withLock { $0.append(.marker(text)) } }

    var all: [Event] { events.withLock { $0 } }
    var changes: [KeyChange] {
        all.compactMap { if case .change(let change) = $0 { change } else { nil } }
    }
}

/// Waits for `condition` to hold, checking every 10 ms; false if `timeout` passes first.
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
