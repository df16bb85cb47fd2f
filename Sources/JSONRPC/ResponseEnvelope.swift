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
        [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            var output = ByteCursor(buffer)
            write(to: &output)
            initialized = output.position
        }
    }

    /// The framed response, built in one allocation with each part copied once.
    func frame(_ framing: Framing) -> [UInt8] {
        let bodyCount = byteCount
        switch framing {
        case .ndjson:
            return [UInt8](unsafeUninitializedCapacity: bodyCount + 1) { buffer, initialized in
                var output = ByteCursor(buffer)
                write(to: &output)
                output.put(UInt8(ascii: "\n"))
                initialized = output.position
            }
        case .lsp, .auto:
            let total = contentLengthHead.count + decimalDigitCount(Int64(bodyCount)) + headerEnd.count + bodyCount
            return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
                var output = ByteCursor(buffer)
                output.put(contentLengthHead)
                output.putDecimal(Int64(bodyCount))
                output.put(headerEnd)
                write(to: &output)
                initialized = output.position
            }
        }
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
        case .number(let number): return decimalDigitCount(number)
        case .bytes(let bytes): return bytes.count
        }
    }
}

/// Writes bytes into a buffer sized in advance; every `put` must fit, which the callers
/// guarantee by computing the exact size first.
private struct ByteCursor {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var position = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    mutating func put(_ byte: UInt8) {
        precondition(position < buffer.count, "response frame size was miscounted")
        buffer[position] = byte
        position += 1
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { source in
            precondition(buffer.count - position >= source.count, "response frame size was miscounted")
            guard let base = source.baseAddress, let target = buffer.baseAddress else { return }
            (target + position).update(from: base, count: source.count)
            position += source.count
        }
    }

    /// Writes `value` in decimal, with a leading `-` when negative.
    mutating func putDecimal(_ value: Int64) {
        let count = decimalDigitCount(value)
        precondition(buffer.count - position >= count, "response frame size was miscounted")
        var magnitude = value.magnitude
        var index = position + count - 1
        repeat {
            buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        if value < 0 { buffer[position] = UInt8(ascii: "-") }
        position += count
    }
}

/// Characters in `value` written in decimal, sign included.
private func decimalDigitCount(_ value: Int64) -> Int {
    var magnitude = value.magnitude
    var count = value < 0 ? 2 : 1
    while magnitude >= 10 {
        magnitude /= 10
        count += 1
    }
    return count
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
private let contentLengthHead: [UInt8] = Array("Content-Length: ".utf8)
private let headerEnd: [UInt8] = Array("\r\n\r\n".utf8)
