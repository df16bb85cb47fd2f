import JSONRPC
import JanssonJSON

/// MCP's two eras on one connection, as a state machine. The first request the server accepts
/// decides the era for good:
/// - `initialize` opens the handshake era: it comes once, before it only `ping` is served, and
///   every later request relies on what it agreed;
/// - a request whose `_meta` names a stateless revision (`MCPRequestEnvelope`) opens the
///   stateless era, where every request must carry its own envelope and `initialize` is
///   answered -32022.
/// A request refused for its envelope decides nothing, so a client may probe and fall back.
/// Each era admits only its own methods (`MCPEra`). There is no `shutdown` or `exit`: a stdio
/// client ends the session by closing the input. Every notification passes.
package struct MCPLifecycle: SessionLifecycle {
    package private(set) var era: MCPEra?
    private let state: MCPConnectionState?

    /// - Parameter state: told when the stateless era begins, so results and notifications
    ///   take its shape; `nil` in tests of the rules alone.
    package init(state: MCPConnectionState? = nil) {
        self.state = state
    }

    package mutating func admit(request method: String, params: JSON?) -> RequestAdmission {
        switch era {
        case nil:
            if method == "initialize" {
                era = .handshake
                return .initialize
            }
            guard MCPRequestEnvelope.isClaimed(by: params) else {
                if method == "ping" { return .proceed }
                return .refuse(
                    .invalidRequest(
                        "send 'initialize' first (revisions \(MCPProtocolVersion.supported.joined(separator: ", "))), "
                            + "or name a stateless revision (\(MCPProtocolVersion.stateless.joined(separator: ", "))) "
                            + "in each request's _meta, starting with server/discover"))
            }
            return admitStateless(method, params: params)
        case .handshake:
            if method == "initialize" {
                return .refuse(.invalidRequest("'initialize' was already received; send it once per connection"))
            }
            if MCPRequestEnvelope.isClaimed(by: params) {
                return .refuse(
                    .invalidRequest(
                        "this connection speaks the handshake revision that initialize agreed; "
                            + "requests naming a stateless revision in _meta belong on a connection of their own"))
            }
            return MCPEra.handshake.serves(method) ? .proceed : .refuse(.methodNotFound(method))
        case .stateless:
            if method == "initialize" {
                return .refuse(
                    MCPRequestEnvelope.unsupported(
                        requested: params?["protocolVersion"]?.stringValue,
                        detail: "This connection speaks the stateless revision "
                            + "\(MCPProtocolVersion.stateless.joined(separator: ", ")); the initialize handshake is not accepted on it"))
            }
            return admitStateless(method, params: params)
        }
    }

    private mutating func admitStateless(_ method: String, params: JSON?) -> RequestAdmission {
        let envelope: MCPRequestEnvelope
        do {
            envelope = try MCPRequestEnvelope(params: params)
        } catch {
            return .refuse(error)
        }
        guard MCPEra.stateless.serves(method) else { return .refuse(.methodNotFound(method)) }
        if era == nil {
            era = .stateless
            state?.enterStatelessEra(version: envelope.protocolVersion)
        }
        return .proceed
    }

    package mutating func admit(notification method: String) -> NotificationAdmission {
        .proceed
    }
}

/// Which of MCP's two ways of holding a session a connection uses, and the methods that
/// exist in it: the stateless revision dropped the handshake's `ping`, `logging/setLevel`
/// and `resources/subscribe` pair, and added `server/discover` and `subscriptions/listen`.
package enum MCPEra: Sendable, Equatable {
    case handshake
    case stateless

    static let handshakeOnly: Set<String> = ["ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"]
    static let statelessOnly: Set<String> = ["server/discover", "subscriptions/listen"]

    /// False for a method of the other era; anything else is for the method table to know.
    func serves(_ method: String) -> Bool {
        switch self {
        case .handshake: return !Self.statelessOnly.contains(method)
        case .stateless: return !Self.handshakeOnly.contains(method)
        }
    }
}
