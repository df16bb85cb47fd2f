import APIKeyStore
import JSONRPC
import JSONRPCStdio

/// One client's session: its connection, and its subscription to the shared store's changes.
///
/// Stopping the session cancels the subscription, so the store lets go of the connection: a
/// stopped session leaves no cycle behind, and other sessions on the store carry on.
package final class HyperstackSession: StdioConnection {
    private let connection: RPCConnection
    private let subscription: KeyChangeSubscription
    private let pollDemand: PollDemand

    init(connection: RPCConnection, subscription: KeyChangeSubscription, pollDemand: PollDemand) {
        self.connection = connection
        self.subscription = subscription
        self.pollDemand = pollDemand
    }

    /// Feeds bytes from the client, in order, from one thread at a time.
    package func receive(_ bytes: UnsafeRawBufferPointer) {
        connection.receive(bytes)
    }

    package func finishInput(timeout: Duration) async {
        await connection.finishInput(timeout: timeout)
    }

    package var framing: Framing? { connection.framing }

    /// Ends delivery of key changes to this session and withdraws its polling demand. Idempotent.
    package func stop() {
        subscription.cancel()
        pollDemand.cancel()
    }
}
