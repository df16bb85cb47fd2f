import InfrahubWire

/// What the sandbox wants done with one request.
///
/// The sandbox itself never sleeps or touches sockets: the carrier (the embedded
/// `SandboxTransport` or the HTTP server) applies the latency and, for a drop,
/// breaks the connection its own way.
package enum SandboxReply: Sendable {
    /// Answer with `response` after waiting `latency`.
    case response(InfrahubResponse, latency: Duration)
    /// Wait `latency`, then close the connection without any response.
    case dropConnection(latency: Duration)

    /// How long to wait before answering or dropping.
    package var latency: Duration {
        switch self {
        case .response(_, let latency), .dropConnection(let latency): return latency
        }
    }
}
