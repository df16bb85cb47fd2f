/// Carries Infrahub requests: over HTTP in production, into the sandbox when embedded.
///
/// The client's retry rules and the sandbox's fault injection both speak this one protocol, so
/// that the same retry logic can be tested in-process and trusted over the network. Any HTTP
/// status, errors included, comes back as a response; only a failure to get one throws, and it
/// says what it proves about the request (see `TransportFailure`).
package protocol InfrahubTransport: Sendable {
    /// Sends `request` and waits at most `timeout` for the whole response, body included.
    func send(_ request: InfrahubRequest, timeout: Duration) async throws(TransportFailure) -> InfrahubResponse
}
