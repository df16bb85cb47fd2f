import JanssonJSON
import Locking
import Synchronization

/// What one MCP connection has agreed and asked for: the negotiated revision (or the stateless
/// one its requests name), what the client said it can do, the log level, the resources it
/// subscribed to and its open `subscriptions/listen` streams. Written by `initialize`, the
/// lifecycle and the subscribe methods, read by every tool call and change notification, from
/// any thread.
package final class MCPConnectionState: Sendable {
    private struct State {
        var version: String?
        var clientCapabilities: JSON = [:]
        var logLevel = "info"
        var subscriptions: Set<String> = []
    }

    private let state = Lock(State())

    /// The stateless era's change streams.
    package let listens = MCPListenStreams()

    package init() {}

    /// The revision `initialize` settled on, or the stateless revision once a request naming
    /// it was admitted; `nil` until then.
    package var negotiatedVersion: String? { state.withLock { $0.version } }

    /// True once the connection speaks the stateless revision: results carry `resultType`,
    /// the server's identity and cache hints, and changes go to listen streams only.
    package var isStateless: Bool { negotiatedVersion.map(MCPProtocolVersion.isStateless) ?? false }

    func enterStatelessEra(version: String) {
        state.withLock { $0.version = version }
    }

    /// The revision whose rules apply now (our latest before `initialize`).
    package var effectiveVersion: String { negotiatedVersion ?? MCPProtocolVersion.latest }

    func settle(version: String) {
        state.withLock { $0.version = version }
    }

    /// Settles the revision and keeps the `capabilities` the client declared in `initialize`.
    func settle(version: String, clientCapabilities: JSON?) {
        state.withLock { state in
            state.version = version
            state.clientCapabilities = clientCapabilities ?? [:]
        }
    }

    /// The `capabilities` object of the client's `initialize`; empty until then.
    package var clientCapabilities: JSON { state.withLock { $0.clientCapabilities } }

    package var logLevel: String { state.withLock { $0.logLevel } }

    func setLogLevel(_ level: String) {
        state.withLock { $0.logLevel = level }
    }

    func subscribe(_ uri: String) {
        state.withLock { _ = $0.subscriptions.insert(uri) }
    }

    func unsubscribe(_ uri: String) {
        state.withLock { _ = $0.subscriptions.remove(uri) }
    }

    package var subscriptions: Set<String> { state.withLock { $0.subscriptions } }

    /// Whether anything here waits for changes: a subscription or an open listen stream. While
    /// it does, the store polls so that changes made elsewhere reach this client.
    var awaitsChanges: Bool { !subscriptions.isEmpty || !listens.isEmpty }
}
