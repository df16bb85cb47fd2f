import InfrahubWire
import Locking
import Synchronization

/// A transport that builds the real one on first use.
///
/// Creating an HTTP client starts event-loop threads; an editor that spawns the server and
/// asks only for `initialize` or a cached list should not pay for that at startup.
package final class LazyTransport<Wrapped: InfrahubTransport>: InfrahubTransport {
    private let make: @Sendable () -> Wrapped
    private let made = Lock<Wrapped?>(nil)

    package init(_ make: @escaping @Sendable () -> Wrapped) {
        self.make = make
    }

    /// The wrapped transport if it was ever needed.
    package var ifMade: Wrapped? { made.withLock { $0 } }

    package func send(_ request: InfrahubRequest, timeout: Duration) async throws(TransportFailure) -> InfrahubResponse {
        let transport = made.withLock { current in
            if let current { return current }
            let fresh = make()
            current = fresh
            return fresh
        }
        return try await transport.send(request, timeout: timeout)
    }
}
