import JanssonJSON
import Locking
import Synchronization

/// What one MCP connection has agreed and asked for: the negotiated revision, what the client
/// said it can do, the log level and the resources it subscribed to. Written by `initialize` and the subscribe methods,
/// read by every tool call and change notification, from any thread.
package final class MCPConnectionState: Sendable {
    private struct State {
        var version: String?
        var clientCapabilities: JSON = [:]
        var logLevel = "info"
        var subscriptions: Set<String> = []
    }

    private let state = Lock(State())

    package init() {}

    /// The revision `initialize` settled on; `nil` until it has answered.
    package var negotiatedVersion: String? { state.withLock { $0.version } }

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

    /// Adds `uri`; returns how many subscriptions there are now.
    func subscribe(_ uri: String) -> Int {
        state.withLock { state in
            state.subscriptions.insert(uri)
            return state.subscriptions.count
        }
    }

    /// Removes `uri`; returns how many subscriptions are left.
    func unsubscribe(_ uri: String) -> Int {
        state.withLock { state in
            state.subscriptions.remove(uri)
            return state.subscriptions.count
        }
    }

    package var subscriptions: Set<String> { state.withLock { $0.subscriptions } }
}
