import JanssonJSON

/// Everything the server writes — a response, alone or as a batch entry, a notification or a
/// request of its own —
/// kept in serialised pieces, so that its frame is built in one allocation and a
/// `.serialized` result is copied once, straight into it, never re-parsed.
struct OutboundMessage: Sendable {
    /// What follows `{"jsonrpc":"2.0",`.
    private enum Lead: Sendable {
        /// `"id":<digits>`: integer ids are written digit by digit, with no allocation.
        case numericID(Int64)
        /// `"id":<text>`: a string or null id, serialised once up front.
        case id([UInt8])
        /// A notification: `value` is its whole body, as Jansson serialised it.
        case wholeBody

        init(_ id: RequestID) {
            switch id {
            case .number(let number): self = .numericID(number)
            case .string, .null: self = .id(id.serialized())
            }
        }
    }

    private let lead: Lead
    private let isError: Bool
    /// The serialised `result` value or `error` object; for a notification, the whole body.
    private let value: [UInt8]

    static func success(id: RequestID, result: RPCResult) throws(JSONSerializationError) -> OutboundMessage {
        switch result {
        case .serialized(let bytes):
            return OutboundMessage(lead: Lead(id), isError: false, value: bytes)
        case .json(let json):
            return OutboundMessage(lead: Lead(id), isError: false, value: try json.serialized())
        }
    }

    static func failure(id: RequestID, error: RPCError) -> OutboundMessage {
        failure(lead: Lead(id), error: error)
    }

    private static func failure(lead: Lead, error: RPCError) -> OutboundMessage {
        let value: [UInt8]
        if let bytes = try? error.json.serialized() {
            value = bytes
        } else {
            // Only `data` can fail to serialise (e.g. a NaN); the rest is plain text.
            var bare = error
            bare.data = nil
            value = (try? bare.json.serialized()) ?? Array(#"{"code":-32603,"message":"Internal error"}"#.utf8)
        }
        return OutboundMessage(lead: lead, isError: true, value: value)
    }

    /// An error answer to an id given as its serialised bytes (what a forwarder keeps).
    static func failure(serializedID: [UInt8], error: RPCError) -> OutboundMessage {
        failure(lead: .id(serializedID), error: error)
    }

    static func notification(method: String, params: JSON) throws(JSONSerializationError) -> OutboundMessage {
        let message: JSON = ["jsonrpc": "2.0", "method": .string(method), "params": params]
        return OutboundMessage(lead: .wholeBody, isError: false, value: try message.serialized())
    }

    /// A request of the server's own to the client (see `OutgoingRequests`).
    static func request(id: RequestID, method: String, params: JSON) throws(JSONSerializationError) -> OutboundMessage {
        let message: JSON = ["jsonrpc": "2.0", "id": id.json, "method": .string(method), "params": params]
        return OutboundMessage(lead: .wholeBody, isError: false, value: try message.serialized())
    }

    private var byteCount: Int {
        switch lead {
        case .wholeBody: return value.count
        case .numericID(let number): return responseByteCount(idBytes: ByteCursor.decimalDigitCount(number))
        case .id(let bytes): return responseByteCount(idBytes: bytes.count)
        }
    }

    private func responseByteCount(idBytes: Int) -> Int {
        envelopeHead.count + idBytes + (isError ? errorKey.count : resultKey.count) + value.count + 1
    }

    /// The bare body, for a batch entry.
    var body: [UInt8] {
        if case .wholeBody = lead { return value }
        return ByteCursor.bytes(count: byteCount) { write(to: &$0) }
    }

    /// The framed message, built in one allocation with each part copied once.
    func frame(_ framing: Framing) -> [UInt8] {
        buildFrame(bodyCount: byteCount, framing: framing) { write(to: &$0) }
    }

    private func write(to output: inout ByteCursor) {
        switch lead {
        case .wholeBody:
            output.put(value)
            return
        case .numericID(let number):
            output.put(envelopeHead)
            output.putDecimal(number)
        case .id(let bytes):
            output.put(envelopeHead)
            output.put(bytes)
        }
        output.put(isError ? errorKey : resultKey)
        output.put(value)
        output.put(UInt8(ascii: "}"))
    }

    /// Frames a batch response: one JSON array holding every answer, written at once.
    static func batchFrame(_ bodies: [[UInt8]], framing: Framing) -> [UInt8] {
        let count = bodies.reduce(2) { $0 + $1.count } + max(bodies.count - 1, 0)
        return buildFrame(bodyCount: count, framing: framing) { output in
            output.put(UInt8(ascii: "["))
            for (index, body) in bodies.enumerated() {
                if index > 0 { output.put(UInt8(ascii: ",")) }
                output.put(body)
            }
            output.put(UInt8(ascii: "]"))
        }
    }
}

/// The answers a forwarder writes itself (to what it cannot read, and 1504), built by the
/// code that builds the server's own, so both are byte for byte alike; and the prefix every
/// answer body starts with, by which a forwarder tells answers from notifications.
package enum AnswerBody {
    package static let prefix: [UInt8] = envelopeHead

    package static func failure(id: RequestID, error: RPCError) -> [UInt8] {
        OutboundMessage.failure(id: id, error: error).body
    }

    /// For an id as `RequestID.serialized()` wrote it.
    package static func failure(serializedID: [UInt8], error: RPCError) -> [UInt8] {
        OutboundMessage.failure(serializedID: serializedID, error: error).body
    }
}

private let envelopeHead: [UInt8] = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
private let resultKey: [UInt8] = Array(#","result":"#.utf8)
private let errorKey: [UInt8] = Array(#","error":"#.utf8)
