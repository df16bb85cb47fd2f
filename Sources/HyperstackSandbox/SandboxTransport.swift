import HTTPTypes
import InfrahubWire

/// Carries requests straight into an in-process `Sandbox`, with the failure semantics of
/// a network: injected latency counts against the timeout (`timedOut`), and a dropped
/// connection surfaces as `connectionLost`, so retry logic sees what it would over HTTP.
///
/// The operation happens when the request arrives; the latency is applied afterwards,
/// as with a server that acted but answered slowly.
package struct SandboxTransport: InfrahubTransport {
    private let sandbox: Sandbox

    package init(sandbox: Sandbox) {
        self.sandbox = sandbox
    }

    /// Cancellation while waiting out a latency becomes `.other("... cancelled ...")`, as the
    /// transport contract allows no other error type.
    package func send(_ request: InfrahubRequest, timeout: Duration) async throws(TransportFailure) -> InfrahubResponse {
        let reply = await sandbox.handle(request)
        let latency = reply.latency
        if latency > .zero {
            let wait = min(latency, timeout)
            do {
                try await Task.sleep(for: wait)
            } catch {
                throw TransportFailure.other("The request was cancelled while the sandbox was answering.")
            }
            if latency > timeout {
                throw TransportFailure.timedOut(
                    "The sandbox did not answer \(request.head.method) \(request.head.path ?? "/") within \(timeout) (injected latency \(latency)).")
            }
        }
        switch reply {
        case .response(let response, _):
            return response
        case .dropConnection:
            throw TransportFailure.connectionLost(
                "The sandbox closed the connection without answering \(request.head.method) \(request.head.path ?? "/") (injected fault).")
        }
    }
}
