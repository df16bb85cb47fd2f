import JanssonJSON

/// A response, serialised piecewise so that a frame is built with one allocation and a
/// `.serialized` result is copied once, straight into it, never re-parsed.
struct ResponseEnvelope: Sendable {
    let id: [UInt8]
    let isError: Bool
    /// The serialised `result` value or `error` object.
    let value: [UInt8]

    static func success(id: RequestID, result: RPCResult) throws(JSONSerializationError) -> ResponseEnvelope {
        switch result {
        case .serialized(let bytes):
            return ResponseEnvelope(id: id.serialized(), isError: false, value: bytes)
        case .json(let json):
            return ResponseEnvelope(id: id.serialized(), isError: false, value: try json.serialized())
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
        return ResponseEnvelope(id: id.serialized(), isError: true, value: value)
    }

    var byteCount: Int {
        envelopeHead.count + id.count + (isError ? errorKey.count : resultKey.count) + value.count + 1
    }

    /// `{"jsonrpc":"2.0","id":<id>,"result":<value>}` (or `"error"`).
    func append(to buffer: inout [UInt8]) {
        buffer.append(contentsOf: envelopeHead)
        buffer.append(contentsOf: id)
        buffer.append(contentsOf: isError ? errorKey : resultKey)
        buffer.append(contentsOf: value)
        buffer.append(UInt8(ascii: "}"))
    }

    var body: [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(byteCount)
        append(to: &buffer)
        return buffer
    }

    func frame(_ framing: Framing) -> [UInt8] {
        buildFrame(bodyCount: byteCount, framing: framing) { append(to: &$0) }
    }
}

/// Frames a batch response: one JSON array holding every answer, written at once.
func batchFrame(_ bodies: [[UInt8]], framing: Framing) -> [UInt8] {
    let count = bodies.reduce(2) { $0 + $1.count } + max(bodies.count - 1, 0)
    return buildFrame(bodyCount: count, framing: framing) { buffer in
        buffer.append(UInt8(ascii: "["))
        for (index, body) in bodies.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(contentsOf: body)
        }
        buffer.append(UInt8(ascii: "]"))
    }
}

private let envelopeHead: [UInt8] = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
private let resultKey: [UInt8] = Array(#","result":"#.utf8)
private let errorKey: [UInt8] = Array(#","error":"#.utf8)
