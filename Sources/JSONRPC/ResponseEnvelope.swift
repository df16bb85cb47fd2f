import JanssonJSON

/// A response, serialised piecewise so that a frame is built with one allocation and a
/// `.serialized` result is copied once, straight into it, never re-parsed.
struct ResponseEnvelope: Sendable {
    let id: SerializedID
    let isError: Bool
    /// The serialised `result` value or `error` object.
    let value: [UInt8]

    static func success(id: RequestID, result: RPCResult) throws(JSONSerializationError) -> ResponseEnvelope {
        switch result {
        case .serialized(let bytes):
            return ResponseEnvelope(id: SerializedID(id), isError: false, value: bytes)
        case .json(let json):
            return ResponseEnvelope(id: SerializedID(id), isError: false, value: try json.serialized())
        }
    }

    static func failure(id: RequestID, error: RPCError) -> ResponseEnvelope {
        let value: [UInt8]
        if let bytes = try? error.json.serialized() {
            value = bytes
        } else {
            // Only `data` can fail to serialise (e.g. a NaN); the rest is plain text.
            var bare = error
            bare.data = nil
            value = (try? bare.json.serialized()) ?? Array(#"{"code":-32603,"message":"Internal error"}"#.utf8)
        }
        return ResponseEnvelope(id: SerializedID(id), isError: true, value: value)
    }

    var byteCount: Int {
        envelopeHead.count + id.byteCount + (isError ? errorKey.count : resultKey.count) + value.count + 1
    }

    /// `{"jsonrpc":"2.0","id":<id>,"result":<value>}` (or `"error"`).
    var body: [UInt8] {
        ByteCursor.bytes(count: byteCount) { write(to: &$0) }
    }

    /// The framed response, built in one allocation with each part copied once.
    func frame(_ framing: Framing) -> [UInt8] {
        buildFrame(bodyCount: byteCount, framing: framing) { write(to: &$0) }
    }

    private func write(to output: inout ByteCursor) {
        output.put(envelopeHead)
        switch id {
        case .number(let number): output.putDecimal(number)
        case .bytes(let bytes): output.put(bytes)
        }
        output.put(isError ? errorKey : resultKey)
        output.put(value)
        output.put(UInt8(ascii: "}"))
    }
}

/// A request id as it will appear in the response: integers are written straight into
/// the frame, other ids are serialised once up front.
enum SerializedID: Sendable {
    case number(Int64)
    case bytes([UInt8])

    init(_ id: RequestID) {
        switch id {
        case .number(let number): self = .number(number)
        case .string, .null: self = .bytes(id.serialized())
        }
    }

    var byteCount: Int {
        switch self {
        case .number(let number): return ByteCursor.decimalDigitCount(number)
        case .bytes(let bytes): return bytes.count
        }
    }
}

/// Frames a batch response: one JSON array holding every answer, written at once.
func batchFrame(_ bodies: [[UInt8]], framing: Framing) -> [UInt8] {
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

private let envelopeHead: [UInt8] = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
private let resultKey: [UInt8] = Array(#","result":"#.utf8)
private let errorKey: [UInt8] = Array(#","error":"#.utf8)
