import DaemonWire
import JSONRPC
import JanssonJSON

/// What a forwarder knows of the protocol its client speaks: the one place that names
/// methods. The ledger, the connection and `call` ask it which requests change keys (never
/// sent twice), which shape the session's state (replayed into a new daemon), which
/// notification cancels, and how to say "outcome unknown" in the client's protocol.
///
/// - JSON-RPC (`protocol/`): the LSP-style lifecycle. `initialize` opens the session and
///   `initialized` completes it; `apiKeys.watch` is state; an answered `shutdown` is replayed
///   last; `exit` ends the forwarder; `$/cancelRequest` still gets an answer (-32800), so it
///   needs nothing here. Mutations: `apiKeys.generate`, `.update`, `.delete`, answered 1504.
/// - MCP, handshake era (2024-11-05 to 2025-11-25): `initialize` and
///   `notifications/initialized` as above; `resources/subscribe` per URI (undone by
///   `resources/unsubscribe`) and the last `logging/setLevel` are state. There is no shutdown
///   or exit: the session ends with the input. `notifications/cancelled {requestId}` means
///   the request gets no answer at all, so the ledger forgets it at once (it is never sent
///   again, and no 1504 is owed). Mutations: `tools/call` of `generate_api_key`,
///   `update_api_key` or `delete_api_key`, answered with an `isError` tool result that says
///   to check `list_api_keys` (a business outcome, which an agent can act on, rather than a
///   protocol error).
/// - MCP, stateless era (2026-07-28): every request carries its own
///   `_meta["io.modelcontextprotocol/protocolVersion"]`, so there is no handshake to replay;
///   `server/discover` is an ordinary read. A `subscriptions/listen` still open when the
///   daemon dies is an ordinary read too: it is sent again, with the client's own id, so its
///   stream re-opens on the new daemon and the client keeps the one it listened on. Changes
///   made while no daemon ran are not announced (the new daemon's cache starts cold, and the
///   next list or read shows them).
package struct SessionRules: Sendable, Equatable {
    package enum Dialect: Sendable, Equatable {
        case jsonRPC
        case mcp
    }

    package let dialect: Dialect

    package static let jsonRPC = SessionRules(dialect: .jsonRPC)
    package static let mcp = SessionRules(dialect: .mcp)

    /// The rules for the protocol a session hello announces.
    package init(for clientProtocol: SessionHello.ClientProtocol) {
        switch clientProtocol {
        case .jsonRPC: dialect = .jsonRPC
        case .mcp: dialect = .mcp
        }
    }

    init(dialect: Dialect) {
        self.dialect = dialect
    }

    /// What a request means for the session's state after a reconnect.
    enum StateEffect: Equatable {
        case none
        /// Opens the session (`initialize`): replayed first, before anything else.
        case opens
        /// Remembered under `slot`, replacing what was there: replayed after the handshake.
        case keeps(slot: String)
        /// Forgets what `slot` held (and is not itself replayed).
        case forgets(slot: String)
        /// Once answered, replayed last (`shutdown`): the new daemon must refuse what the
        /// old one would have refused.
        case closesWhenAnswered
    }

    /// How one request is treated.
    struct RequestRule: Equatable {
        /// Applied upstream; never sent twice, answered "outcome unknown" after a loss.
        var isMutation = false
        var state = StateEffect.none
    }

    /// What a notification means.
    enum NotificationRule: Equatable {
        case none
        /// Completes the handshake (`initialized`): replayed right after the opening request.
        case completesHandshake
        /// The client gave up on this request, which gets no answer (MCP).
        case cancels(WireID)
        /// The client ends the session (LSP's `exit`).
        case exits
    }

    static let jsonRPCMutations: Set<String> = ["apiKeys.generate", "apiKeys.update", "apiKeys.delete"]
    static let mcpMutatingTools: Set<String> = ["generate_api_key", "update_api_key", "delete_api_key"]

    /// Whether the forwarder must parse a message with this method in full: the peek at its
    /// top level gives only the id and the method, and these need their params.
    func needsParams(_ method: String) -> Bool {
        switch dialect {
        case .jsonRPC:
            return method == "initialize"
        case .mcp:
            switch method {
            case "tools/call", "resources/subscribe", "resources/unsubscribe", "notifications/cancelled": return true
            default: return false
            }
        }
    }

    /// `method`'s rule; `message` is the whole request where `needsParams(method)`.
    func request(_ method: String, message: JSON?) -> RequestRule {
        switch dialect {
        case .jsonRPC:
            switch method {
            case "initialize": return RequestRule(state: .opens)
            case "apiKeys.watch": return RequestRule(state: .keeps(slot: "apiKeys.watch"))
            case "shutdown": return RequestRule(state: .closesWhenAnswered)
            default: return RequestRule(isMutation: Self.jsonRPCMutations.contains(method))
            }
        case .mcp:
            let params = message?["params"]
            switch method {
            case "initialize":
                return RequestRule(state: .opens)
            case "tools/call":
                // An unreadable name is an error the daemon answers; sending it again is harmless.
                let name = params?["name"]?.stringValue
                return RequestRule(isMutation: name.map { Self.mcpMutatingTools.contains($0) } ?? false)
            case "resources/subscribe", "resources/unsubscribe":
                guard let uri = params?["uri"]?.stringValue else { return RequestRule() }
                let slot = "resources/subscribe " + uri
                return RequestRule(state: method == "resources/subscribe" ? .keeps(slot: slot) : .forgets(slot: slot))
            case "logging/setLevel":
                return RequestRule(state: .keeps(slot: "logging/setLevel"))
            default:
                return RequestRule()
            }
        }
    }

    /// `method`'s rule; `message` is the whole notification where `needsParams(method)`.
    func notification(_ method: String, message: JSON?) -> NotificationRule {
        switch (dialect, method) {
        case (.jsonRPC, "initialized"), (.mcp, "notifications/initialized"):
            return .completesHandshake
        case (.jsonRPC, "exit"):
            return .exits
        case (.mcp, "notifications/cancelled"):
            guard let value = message?["params"]?["requestId"], !value.isNull, let id = RequestID(json: value) else {
                return .none
            }
            return .cancels(id.serialized())
        default:
            return .none
        }
    }

    /// Whether `initialize` carries the LSP-style options the forwarder acts on itself (the
    /// client's process id, credentials that choose another store).
    var initializeCarriesOptions: Bool { dialect == .jsonRPC }

    /// Whether `method` with `params` changes keys upstream, for `call`.
    package func isMutation(_ method: String, params: JSON?) -> Bool {
        request(method, message: params.map { (params: JSON) -> JSON in ["params": params] }).isMutation
    }

    /// The answer to a mutation whose outcome the lost daemon took with it: it is not sent
    /// again, since it may have been applied (protocol/README.md, error 1504).
    /// - Parameter method: the JSON-RPC method, or for MCP the tool's name.
    func outcomeUnknown(id: WireID, method: String) -> [UInt8] {
        switch dialect {
        case .jsonRPC:
            return Self.jsonRPCOutcomeUnknown(id: id, method: method)
        case .mcp:
            let text =
                "The connection to the shared hyperstack-rpc daemon broke while \(method) was in flight, so whether it "
                + "took effect is unknown. Call list_api_keys to check before trying again."
            let result: JSON = ["content": [["type": "text", "text": .string(text)]], "isError": true]
            var body = AnswerBody.prefix + id
            body += Array(#","result":"#.utf8)
            body += (try? result.serialized()) ?? Array("{}".utf8)
            body.append(UInt8(ascii: "}"))
            return body
        }
    }

    /// Error 1504, "outcome unknown: check apiKeys.list".
    static func jsonRPCOutcomeUnknown(id: WireID, method: String) -> [UInt8] {
        AnswerBody.failure(
            serializedID: id,
            error: RPCError(code: 1504, message: "outcome unknown: check apiKeys.list", data: ["method": .string(method)]))
    }

    /// What `outcomeUnknown` names: the method, or for an MCP tool call the tool.
    func mutationName(method: String, message: JSON?) -> String {
        if dialect == .mcp, method == "tools/call", let name = message?["params"]?["name"]?.stringValue { return name }
        return method
    }
}
