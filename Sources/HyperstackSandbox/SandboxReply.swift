import InfrahubClient

/// What the sandbox wants done with one request.
///
/// The sandbox itself never sleeps or touches sockets: the carrier (the embedded
/// `SandboxTransport` or the HTTP server) applies the latency and, for a drop,
/// breaks the connection its own way.
public enum SandboxReply: Sendable {
    /// Answer with `response` after waiting `latency`.
    case response(InfrahubHTTPResponse, latency: Duration)
    /// Wait `latency`, then close the connection without any response.
    case dropConnection(latency: Duration)

    /// How long to wait before answering or dropping.
    public var latency: Duration {
        switch self {
        case .response(_, let latency), .dropConnection(let latency): return latency
        }
    }

    /// The response, or `nil` for a dropped connection.
    public var response: InfrahubHTTPResponse? {
        if case .response(let response, _) = self { return response }
        return nil
    }
}
