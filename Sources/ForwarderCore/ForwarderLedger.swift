import JSONRPC
import JanssonJSON

/// What a forwarder remembers so that losing its daemon loses nothing: the session's state
/// to replay (`initialize`, `initialized`, the last `apiKeys.watch`, a `shutdown`), and every
/// request still in flight. A plain value, so every rule is tested without sockets.
///
/// The rules after a reconnect: reads are sent again, in their order; a mutation in flight
/// (`apiKeys.generate`, `apiKeys.update`, `apiKeys.delete`) is never sent again, since it may
/// have been applied, and gets error 1504 instead. Replayed messages the client did not
/// send again carry ids of the forwarder's own, and their answers are dropped.
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

    package static let mutations: Set<String> = ["apiKeys.generate", "apiKeys.update", "apiKeys.delete"]

    private(set) var inFlight: [WireID: Pending] = [:]
    private var nextOrder: UInt64 = 0
    private var nextBatch: UInt64 = 0
    private var initialize: (body: [UInt8], answered: Bool)?
    private var initialized: [UInt8]?
    private var watch: (id: WireID, body: [UInt8])?
    private var shutdownAnswered = false
    private var dropped: Set<WireID> = []
    private var replayCount = 0
    /// For each batch re-sent without its mutations: the re-sent ids, and the 1504 bodies to add.
    private var patches: [(ids: Set<WireID>, extra: [[UInt8]])] = []

    var isIdle: Bool { inFlight.isEmpty && dropped.isEmpty }
    var hasAnsweredInitialize: Bool { initialize?.answered ?? false }

    /// Records a message forwarded to the daemon.
    mutating func forwarded(_ message: ClientMessage, body: [UInt8]) {
        switch message {
        case .request(let request):
            track(request.id, method: request.method, body: body, batch: nil)
            switch request.method {
            case "initialize": initialize = (body, false)
            case "apiKeys.watch": watch = (request.id, body)
            default: break
            }
        case .notification(let method):
            if method == "initialized" { initialized = body }
        case .batch(let requests):
            nextBatch += 1
            for request in requests {
                let body = request.json.flatMap { try? $0.serialized() } ?? []
                track(request.id, method: request.method, body: body, batch: nextBatch)
                if request.method == "apiKeys.watch" { watch = (request.id, body) }
            }
        case .other:
            break
        }
    }

    private mutating func track(_ id: WireID, method: String, body: [UInt8], batch: UInt64?) {
        nextOrder += 1
        inFlight[id] = Pending(method: method, body: body, order: nextOrder, batch: batch)
    }

    /// Records an answer from the daemon and says what to do with it.
    mutating func received(_ reply: DaemonReply, body: UnsafeRawBufferPointer) -> Disposition {
        switch reply {
        case .other:
            return .forward
        case .response(let id):
            if dropped.remove(id) != nil { return .drop }
            if let pending = inFlight.removeValue(forKey: id) { settled(pending) }
            return .forward
        case .batch(let ids):
            for id in ids {
                if let pending = inFlight.removeValue(forKey: id) { settled(pending) }
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

    private mutating func settled(_ pending: Pending) {
        switch pending.method {
        case "initialize": initialize?.answered = true
        case "shutdown": shutdownAnswered = true
        default: break
        }
    }

    /// The daemon is gone: what to send the next one, and what to answer at once. Answers
    /// to replayed state that were still owed are forgotten with the old connection.
    mutating func replay() -> Replay {
        var plan = Replay()
        dropped.removeAll()
        patches.removeAll()
        let initializeID = inFlight.first { $0.value.method == "initialize" }?.key
        if let initialize {
            if let initializeID, let pending = inFlight[initializeID] {
                plan.resend.append(pending.body)
            } else if let replayed = replayed(initialize.body) {
                plan.resend.append(replayed)
            }
        }
        if let initialized { plan.resend.append(initialized) }
        if let watch, inFlight[watch.id] == nil, let replayed = replayed(watch.body) { plan.resend.append(replayed) }

        var batches: [UInt64: [(id: WireID, pending: Pending)]] = [:]
        for (id, pending) in inFlight.sorted(by: { $0.value.order < $1.value.order }) where id != initializeID {
            if let batch = pending.batch {
                batches[batch, default: []].append((id, pending))
            } else if Self.mutations.contains(pending.method) {
                inFlight[id] = nil
                plan.answers.append(Self.outcomeUnknown(id: id, method: pending.method))
            } else {
                plan.resend.append(pending.body)
            }
        }
        for batch in batches.keys.sorted() {
            let entries = batches[batch]!
            let reads = entries.filter { !Self.mutations.contains($0.pending.method) }
            let unknown = entries.filter { Self.mutations.contains($0.pending.method) }.map { entry in
                inFlight[entry.id] = nil
                return Self.outcomeUnknown(id: entry.id, method: entry.pending.method)
            }
            if reads.isEmpty {
                if !unknown.isEmpty { plan.answers.append(Self.array(unknown)) }
                continue
            }
            plan.resend.append(Self.array(reads.map(\.pending.body)))
            if !unknown.isEmpty { patches.append((Set(reads.map(\.id)), unknown)) }
        }
        if shutdownAnswered, let replayed = replayed(Array(#"{"jsonrpc":"2.0","id":0,"method":"shutdown"}"#.utf8)) {
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
        AnswerBody.failure(
            serializedID: id,
            error: RPCError(code: 1504, message: "outcome unknown: check apiKeys.list", data: ["method": .string(method)]))
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
