import JSONRPC
import JanssonJSON

/// What a forwarder remembers so that losing its daemon loses nothing: the session's state
/// to replay, and every request still in flight. A plain value, so every rule is tested
/// without sockets. Which messages are state and which change keys is the session's
/// `SessionRules`: for JSON-RPC `initialize`, `initialized`, the last `apiKeys.watch` and a
/// `shutdown`; for MCP `initialize`, `notifications/initialized`, each `resources/subscribe`
/// still in force and the last `logging/setLevel`.
///
/// The rules after a reconnect: the opening request first (with the client's id if it is
/// still unanswered), then the notification that completes the handshake, then the rest of
/// the state in the order it was made, then every request in flight; reads are sent again,
/// in their order; a mutation in flight is never sent again, since it may have been applied,
/// and gets the rules' "outcome unknown" answer instead (1504 for JSON-RPC); an answered
/// closing request (`shutdown`) comes last. Replayed messages the client did not send again
/// carry ids of the forwarder's own, and their answers are dropped. A request the client
/// cancelled MCP's way gets no answer, so it is forgotten at once.
package struct ForwarderLedger {
    /// A request forwarded and not yet answered.
    struct Pending {
        var method: String
        /// What to send again: the message as the client framed it.
        var body: [UInt8]
        /// Arrival order, for sending again in the same order.
        var order: UInt64
        /// The batch it came in, if any.
        var batch: UInt64?
        /// Never sent again; `mutationName` is what its "outcome unknown" answer names.
        var isMutation = false
        var mutationName = ""
        var closesWhenAnswered = false
    }

    /// What to do after reconnecting: send `resend` to the new daemon, in order, then write
    /// `answers` to the client.
    struct Replay {
        var resend: [[UInt8]] = []
        var answers: [[UInt8]] = []
    }

    /// What to do with an answer from the daemon.
    enum Disposition: Equatable {
        case forward
        /// The answer to a replayed message the client did not send again.
        case drop
        /// A batch re-sent without its mutations: forward this instead, with their 1504s added.
        case forwardInstead([UInt8])
    }

    /// The JSON-RPC methods that change keys (for `call`, which speaks JSON-RPC).
    package static var mutations: Set<String> { SessionRules.jsonRPCMutations }

    let rules: SessionRules
    private(set) var inFlight: [WireID: Pending] = [:]
    private var nextOrder: UInt64 = 0
    private var nextBatch: UInt64 = 0
    private var opening: (id: WireID, body: [UInt8], answered: Bool)?
    private var handshake: [UInt8]?
    /// The rest of the state, in the order it was first made: each slot's latest request.
    private var kept: [(slot: String, id: WireID, body: [UInt8])] = []
    private var closing: [UInt8]?
    private var dropped: Set<WireID> = []
    private var replayCount = 0
    /// For each batch re-sent without its mutations: the re-sent ids, and the 1504 bodies to add.
    private var patches: [(ids: Set<WireID>, extra: [[UInt8]])] = []

    init(rules: SessionRules = .jsonRPC) {
        self.rules = rules
    }

    var isIdle: Bool { inFlight.isEmpty && dropped.isEmpty }
    var hasAnsweredInitialize: Bool { opening?.answered ?? false }

    /// Records a message forwarded to the daemon.
    mutating func forwarded(_ message: ClientMessage, body: [UInt8]) {
        switch message {
        case .request(let request):
            let rule = track(request, body: body, batch: nil)
            // The first one counts: a lifecycle refuses any other.
            if rule.state == .opens, opening == nil { opening = (request.id, body, false) }
            keep(rule.state, id: request.id, body: body)
        case .notification(let method, let json):
            switch rules.notification(method, message: json) {
            case .completesHandshake: handshake = body
            case .cancels(let id): inFlight[id] = nil
            case .exits, .none: break
            }
        case .batch(let requests):
            nextBatch += 1
            for request in requests {
                let body = request.json.flatMap { try? $0.serialized() } ?? []
                let rule = track(request, body: body, batch: nextBatch)
                keep(rule.state, id: request.id, body: body)
            }
        case .other:
            break
        }
    }

    private mutating func track(_ request: ClientMessage.Request, body: [UInt8], batch: UInt64?) -> SessionRules.RequestRule {
        let rule = rules.request(request.method, message: request.json)
        nextOrder += 1
        inFlight[request.id] = Pending(
            method: request.method, body: body, order: nextOrder, batch: batch, isMutation: rule.isMutation,
            mutationName: rule.isMutation ? rules.mutationName(method: request.method, message: request.json) : "",
            closesWhenAnswered: rule.state == .closesWhenAnswered)
        return rule
    }

    private mutating func keep(_ effect: SessionRules.StateEffect, id: WireID, body: [UInt8]) {
        switch effect {
        case .keeps(let slot):
            if let index = kept.firstIndex(where: { $0.slot == slot }) {
                kept[index] = (slot, id, body)
            } else {
                kept.append((slot, id, body))
            }
        case .forgets(let slot):
            kept.removeAll { $0.slot == slot }
        case .none, .opens, .closesWhenAnswered:
            break
        }
    }

    /// Records an answer from the daemon and says what to do with it.
    mutating func received(_ reply: DaemonReply, body: UnsafeRawBufferPointer) -> Disposition {
        switch reply {
        case .other:
            return .forward
        case .response(let id):
            if dropped.remove(id) != nil { return .drop }
            if let pending = inFlight.removeValue(forKey: id) { settled(id, pending) }
            return .forward
        case .batch(let ids):
            for id in ids {
                if let pending = inFlight.removeValue(forKey: id) { settled(id, pending) }
            }
            let answered = Set(ids)
            guard let index = patches.firstIndex(where: { $0.ids == answered }) else { return .forward }
            let patch = patches.remove(at: index)
            var combined = Array(body.dropLast())  // the closing ]
            for extra in patch.extra {
                combined.append(UInt8(ascii: ","))
                combined += extra
            }
            combined.append(UInt8(ascii: "]"))
            return .forwardInstead(combined)
        }
    }

    private mutating func settled(_ id: WireID, _ pending: Pending) {
        if opening?.id == id { opening?.answered = true }
        if pending.closesWhenAnswered { closing = pending.body }
    }

    /// The daemon is gone: what to send the next one, and what to answer at once. Answers
    /// to replayed state that were still owed are forgotten with the old connection.
    mutating func replay() -> Replay {
        var plan = Replay()
        dropped.removeAll()
        patches.removeAll()
        var openingID: WireID?
        if let opening {
            if !opening.answered, let pending = inFlight[opening.id] {
                openingID = opening.id
                plan.resend.append(pending.body)
            } else if let replayed = replayed(opening.body) {
                plan.resend.append(replayed)
            }
        }
        if let handshake { plan.resend.append(handshake) }
        // State still in flight is sent again below, with the client's own id.
        for entry in kept where inFlight[entry.id] == nil {
            if let replayed = replayed(entry.body) { plan.resend.append(replayed) }
        }

        var batches: [UInt64: [(id: WireID, pending: Pending)]] = [:]
        for (id, pending) in inFlight.sorted(by: { $0.value.order < $1.value.order }) where id != openingID {
            if let batch = pending.batch {
                batches[batch, default: []].append((id, pending))
            } else if pending.isMutation {
                inFlight[id] = nil
                plan.answers.append(rules.outcomeUnknown(id: id, method: pending.mutationName))
            } else {
                plan.resend.append(pending.body)
            }
        }
        for batch in batches.keys.sorted() {
            let entries = batches[batch]!
            let reads = entries.filter { !$0.pending.isMutation }
            let unknown = entries.filter(\.pending.isMutation).map { entry in
                inFlight[entry.id] = nil
                return rules.outcomeUnknown(id: entry.id, method: entry.pending.mutationName)
            }
            if reads.isEmpty {
                if !unknown.isEmpty { plan.answers.append(Self.array(unknown)) }
                continue
            }
            plan.resend.append(Self.array(reads.map(\.pending.body)))
            if !unknown.isEmpty { patches.append((Set(reads.map(\.id)), unknown)) }
        }
        if let closing, let replayed = replayed(closing) {
            plan.resend.append(replayed)
        }
        return plan
    }

    /// `body` with an id of the forwarder's own, whose answer will be dropped.
    private mutating func replayed(_ body: [UInt8]) -> [UInt8]? {
        guard case .object(var object) = try? JSON.parse(body) else { return nil }
        replayCount += 1
        let id = "hyperstack-rpc-forwarder-replay-\(replayCount)"
        object["id"] = .string(id)
        guard let bytes = try? JSON.object(object).serialized() else { return nil }
        dropped.insert(Array(#""\#(id)""#.utf8))
        return bytes
    }

    /// Error 1504 for a mutation whose outcome the lost daemon took with it. The connection
    /// broke while the request was in flight; it is not sent again, since it may have been
    /// applied (protocol/README.md, error 1504).
    package static func outcomeUnknown(id: [UInt8], method: String) -> [UInt8] {
        SessionRules.jsonRPCOutcomeUnknown(id: id, method: method)
    }

    private static func array(_ bodies: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (index, body) in bodies.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += body
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }
}
