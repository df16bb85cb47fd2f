import JSONRPC
import JanssonJSON

/// An id as it goes over the wire, serialised: the key a forwarder matches answers by.
/// The daemon serialises ids with the same code (`RequestID.serialized()`), so the bytes in
/// its answer equal the bytes computed from the request.
typealias WireID = [UInt8]

/// What a forwarder needs to know about one message from its client.
enum ClientMessage {
    /// A request with an id: it will be answered.
    case request(Request)
    /// A notification (no id): `initialized`, `exit`, `$/cancelRequest`, ...; parsed in full
    /// (`json`) only where the session's rules need its params.
    case notification(method: String, json: JSON?)
    /// A batch; its requests are answered together, in one array.
    case batch([Request])
    /// Anything else (not JSON, a response, an invalid message): forwarded for the daemon
    /// to answer, not tracked.
    case other

    struct Request {
        var id: WireID
        var method: String
        /// The message itself, parsed, where the forwarder needs more than id and method:
        /// params the session's rules read (`initialize`'s, a tool call's name), and a batch
        /// entry (what is sent again after a reconnect).
        var json: JSON?
    }

    /// Reads the id and method from the top level (`RequestPeek`), and parses in full only
    /// what `rules` needs the params of, batches and what the peek is unsure of.
    init(body: UnsafeRawBufferPointer, options: JSONParseOptions, rules: SessionRules = .jsonRPC) {
        switch RequestPeek(body) {
        case .request(let id, let method) where !rules.needsParams(method):
            self = .request(Request(id: id, method: method, json: nil))
            return
        case .notification(let method) where !rules.needsParams(method):
            self = .notification(method: method, json: nil)
            return
        case .request, .notification, .unsure:
            break
        }
        guard let json = try? JSON.parse(body, options: options) else {
            self = .other
            return
        }
        switch json {
        case .object:
            guard let method = json["method"]?.stringValue else {
                self = .other
                return
            }
            guard let idValue = json["id"] else {
                self = .notification(method: method, json: json)
                return
            }
            guard let id = RequestID(json: idValue), !idValue.isNull else {
                self = .other
                return
            }
            self = .request(Request(id: id.serialized(), method: method, json: json))
        case .array(let entries):
            let requests = entries.compactMap { entry -> Request? in
                guard let method = entry["method"]?.stringValue, let idValue = entry["id"], !idValue.isNull,
                    let id = RequestID(json: idValue)
                else { return nil }
                return Request(id: id.serialized(), method: method, json: entry)
            }
            self = .batch(requests)
        default:
            self = .other
        }
    }
}

/// What the daemon sent: an answer (by id), a batch of answers, or something else
/// (a notification). Answers are recognised by the exact envelope the daemon's
/// `OutboundMessage` writes (`AnswerBody.prefix`), so telling them apart reads only the id.
enum DaemonReply: Equatable {
    case response(WireID)
    case batch([WireID])
    case other

    init(body: UnsafeRawBufferPointer) {
        if body.count > AnswerBody.prefix.count, body.starts(with: AnswerBody.prefix) {
            // An answer has `result` or `error` right after its id; a request the daemon sends
            // the client (an MCP elicitation, say) starts the same way, then has `method`.
            guard let id = Self.scanID(body, from: AnswerBody.prefix.count),
                Self.answerMembers.contains(where: { body[(AnswerBody.prefix.count + id.count)...].starts(with: $0) })
            else {
                self = .other
                return
            }
            self = .response(id)
        } else if body.first == UInt8(ascii: "[") {
            // Batches are rare: a full parse is fine here.
            guard let entries = (try? JSON.parse(body))?.arrayValue else {
                self = .other
                return
            }
            self = .batch(entries.compactMap { $0["id"].flatMap(RequestID.init(json:))?.serialized() })
        } else {
            self = .other
        }
    }

    private static let answerMembers = [Array(#","result":"#.utf8), Array(#","error":"#.utf8)]

    /// The id token at `start`: a string (to its unescaped closing quote) or a number or
    /// null (to the comma that follows it).
    private static func scanID(_ body: UnsafeRawBufferPointer, from start: Int) -> WireID? {
        var index = start
        if body[index] == UInt8(ascii: "\"") {
            index += 1
            while index < body.count {
                switch body[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""): return Array(body[start...index])
                default: index += 1
                }
            }
            return nil
        }
        while index < body.count, body[index] != UInt8(ascii: ",") { index += 1 }
        return index < body.count ? Array(body[start..<index]) : nil
    }
}
