/// Splits an LSP base-protocol stream: a header block ended by an empty line, then a
/// body of exactly `Content-Length` bytes.
///
/// Header names are matched case-insensitively; `Content-Type` and any other header are
/// ignored; a bare LF is accepted where CRLF is expected. A body over the limit is
/// skipped by counting bytes, so a hostile length cannot make us allocate. After an
/// unusable header the framer scans forward for the next `Content-Length:` text and
/// resumes there, so one bad frame does not take the connection down. A header line that
/// starts with `{` or `[` (an NDJSON message sent into an LSP stream) is such a header.
package struct ContentLengthFramer: MessageFramer, Sendable {
    package let limits: FramingLimits

    private enum State: Sendable {
        /// Reading header lines.
        case header
        /// Collecting a body that was split across chunks; `remaining` bytes still to come.
        case body(remaining: Int)
        /// Discarding an oversized body.
        case skipping(remaining: Int)
        /// Looking for `Content-Length:` after a bad header; `matched` bytes of it seen.
        case resynchronising(matched: Int)
    }

    private var state: State = .header
    /// The header line being read, without its line terminator.
    private var line: [UInt8] = []
    private var headerBlockBytes = 0
    private var headerLineCount = 0
    private var contentLength: Int?
    /// A body split across chunks.
    private var body: [UInt8] = []

    package init(limits: FramingLimits = .default) {
        self.limits = limits
        line.reserveCapacity(64)
    }

    /// True while a message is partly read, e.g. when input ends mid-frame.
    package var isInsideMessage: Bool {
        switch state {
        case .header: return !line.isEmpty || headerLineCount > 0
        case .body, .skipping: return true
        case .resynchronising: return false
        }
    }

    package mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        onMessage: (UnsafeRawBufferPointer) -> Void,
        onError: (FramingError) -> Void
    ) {
        var index = 0
        let end = chunk.count
        while index < end {
            switch state {
            case .header:
                readHeader(chunk, &index, onMessage: onMessage, onError: onError)

            case .body(let remaining):
                let available = end - index
                if body.isEmpty && available >= remaining {
                    // The whole body is in this chunk: hand it over without copying.
                    onMessage(UnsafeRawBufferPointer(rebasing: chunk[index..<(index + remaining)]))
                    index += remaining
                    state = .header
                } else {
                    let take = min(available, remaining)
                    if body.isEmpty { body.reserveCapacity(remaining) }
                    body.append(contentsOf: chunk[index..<(index + take)])
                    index += take
                    if take == remaining {
                        body.withUnsafeBytes { onMessage($0) }
                        body = []
                        state = .header
                    } else {
                        state = .body(remaining: remaining - take)
                    }
                }

            case .skipping(let remaining):
                let take = min(end - index, remaining)
                index += take
                state = take == remaining ? .header : .skipping(remaining: remaining - take)

            case .resynchronising(var matched):
                while index < end {
                    let byte = asciiLowercased(chunk[index])
                    index += 1
                    if byte == contentLengthName[matched] {
                        matched += 1
                        if matched == contentLengthName.count { break }
                    } else {
                        // "content-length:" has no repeated prefix, so restarting is exact.
                        matched = byte == contentLengthName[0] ? 1 : 0
                    }
                }
                if matched == contentLengthName.count {
                    startHeaderBlock()
                    line.append(contentsOf: contentLengthName)
                    headerBlockBytes = line.count
                    state = .header
                } else {
                    state = .resynchronising(matched: matched)
                }
            }
        }
    }

    /// Reads header bytes until the block ends, an error occurs or the chunk runs out.
    private mutating func readHeader(
        _ chunk: UnsafeRawBufferPointer, _ index: inout Int,
        onMessage: (UnsafeRawBufferPointer) -> Void,
        onError: (FramingError) -> Void
    ) {
        let end = chunk.count
        while index < end {
            let byte = chunk[index]
            index += 1
            headerBlockBytes += 1
            if byte == UInt8(ascii: "\n") {
                if let error = finishLine() {
                    onError(error)
                    resynchronise()
                    return
                }
                if case .header = state { continue }
                if case .body(0) = state {
                    // An empty body is still a message (the parser will reject it).
                    state = .header
                    onMessage(UnsafeRawBufferPointer(start: nil, count: 0))
                    continue
                }
                if case .skipping(let declared) = state {
                    onError(.oversized(declaredLength: declared, limit: limits.maxMessageBytes))
                }
                return
            }
            if line.count >= limits.maxHeaderLineBytes {
                onError(.headerTooLong(limit: limits.maxHeaderLineBytes))
                resynchronise()
                return
            }
            if headerBlockBytes > limits.maxHeaderBytes {
                onError(.headerTooLong(limit: limits.maxHeaderBytes))
                resynchronise()
                return
            }
            line.append(byte)
        }
    }

    /// Interprets the completed header line; sets `state` when the block ends.
    private mutating func finishLine() -> FramingError? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.isEmpty {
            guard headerLineCount > 0 else {
                // Blank lines between messages are harmless; do not count them as a header.
                headerBlockBytes = 0
                return nil
            }
            guard let length = contentLength else {
                return .invalidHeader("the header has no Content-Length")
            }
            startHeaderBlock()
            state = length > limits.maxMessageBytes ? .skipping(remaining: length) : .body(remaining: length)
            return nil
        }
        headerLineCount += 1
        if let first = line.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            // JSON has colons, so without this check the line would pass as an unknown
            // header and the message would vanish without an answer.
            return .invalidHeader(
                "a line starts with '\(Character(Unicode.Scalar(first)))' where a 'Content-Length: N' header was expected; "
                    + "this stream uses LSP framing, so each JSON message needs that header and a blank line before it")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            return .invalidHeader("a \(line.count)-byte header line is not a 'Name: value' line")
        }
        let name = trimmed(line[..<colon])
        guard name.count == contentLengthName.count - 1,
            zip(name, contentLengthName).allSatisfy({ asciiLowercased($0) == $1 })
        else {
            return nil  // Content-Type and unknown headers are ignored.
        }
        let value = trimmed(line[(colon + 1)...])
        guard let length = parseLength(value) else {
            return .invalidHeader("the Content-Length value is not a non-negative whole number")
        }
        if let existing = contentLength, existing != length {
            return .invalidHeader("Content-Length is given twice, as \(existing) and \(length)")
        }
        contentLength = length
        return nil
    }

    private mutating func startHeaderBlock() {
        line.removeAll(keepingCapacity: true)
        headerBlockBytes = 0
        headerLineCount = 0
        contentLength = nil
    }

    private mutating func resynchronise() {
        startHeaderBlock()
        state = .resynchronising(matched: 0)
    }
}

/// The header name we look for, lowercased, with its colon (used when resynchronising).
private let contentLengthName: [UInt8] = Array("content-length:".utf8)

private func asciiLowercased(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
}

private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var slice = bytes
    while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { slice.removeFirst() }
    while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { slice.removeLast() }
    return slice
}

/// Digits only, at most 18 of them so the value cannot overflow.
private func parseLength(_ digits: ArraySlice<UInt8>) -> Int? {
    guard !digits.isEmpty, digits.count <= 18 else { return nil }
    var value = 0
    for byte in digits {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return value
}
