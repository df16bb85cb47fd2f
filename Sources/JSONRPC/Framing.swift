/// How messages are delimited on the byte stream.
///
/// `lsp` is the Language Server Protocol base protocol (`Content-Length` headers),
/// `ndjson` is one JSON text per line. `auto` picks one from the first non-whitespace
/// byte of input, so both kinds of client work without configuration.
package enum Framing: String, Sendable, Hashable, CaseIterable {
    case auto
    case lsp
    case ndjson

    /// The framing implied by the first non-whitespace input byte: a JSON text starts
    /// with `{` or `[`, anything else must be a header. `nil` for whitespace.
    package static func detect(firstByte byte: UInt8) -> Framing? {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): return nil
        case UInt8(ascii: "{"), UInt8(ascii: "["): return .ndjson
        default: return .lsp
        }
    }
}

/// Size limits that keep a hostile or broken peer from exhausting memory.
package struct FramingLimits: Sendable, Equatable {
    /// Largest body (LSP) or line (NDJSON) accepted; larger ones are skipped unbuffered.
    package var maxMessageBytes: Int
    /// Longest single header line, CRLF excluded.
    package var maxHeaderLineBytes: Int
    /// Longest header block, all lines together.
    package var maxHeaderBytes: Int

    package init(
        maxMessageBytes: Int = ConnectionConfiguration.defaultMaxMessageBytes,
        maxHeaderLineBytes: Int = 8 << 10,
        maxHeaderBytes: Int = 64 << 10
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxHeaderLineBytes = maxHeaderLineBytes
        self.maxHeaderBytes = maxHeaderBytes
    }

    package static let `default` = FramingLimits()
}

/// Wraps one message body for the wire: LSP gets a `Content-Length` header, NDJSON a
/// trailing newline. `.auto` means nothing has been decided yet and uses LSP headers.
/// The body must not contain a raw newline for NDJSON; `JSON.serialized()` never emits one.
package func encodeFrame(body: [UInt8], framing: Framing) -> [UInt8] {
    buildFrame(bodyCount: body.count, framing: framing) { $0.put(body) }
}

/// `encodeFrame` for a body that is only borrowed (a framer's view of its input): copied
/// once, straight into the frame.
package func encodeFrame(body: UnsafeRawBufferPointer, framing: Framing) -> [UInt8] {
    buildFrame(bodyCount: body.count, framing: framing) { $0.put(body) }
}

/// Builds a frame in one allocation: `writeBody` must write exactly `bodyCount` bytes.
/// Used by the response path so a result is copied once, straight into the frame.
func buildFrame(bodyCount: Int, framing: Framing, _ writeBody: (inout ByteCursor) -> Void) -> [UInt8] {
    switch framing {
    case .ndjson:
        return ByteCursor.bytes(count: bodyCount + 1) { output in
            writeBody(&output)
            output.put(UInt8(ascii: "\n"))
        }
    case .lsp, .auto:
        let length = Int64(bodyCount)
        let total = contentLengthPrefix.count + ByteCursor.decimalDigitCount(length) + headerTerminator.count + bodyCount
        return ByteCursor.bytes(count: total) { output in
            output.put(contentLengthPrefix)
            output.putDecimal(length)
            output.put(headerTerminator)
            writeBody(&output)
        }
    }
}

private let contentLengthPrefix: [UInt8] = Array("Content-Length: ".utf8)
private let headerTerminator: [UInt8] = Array("\r\n\r\n".utf8)
