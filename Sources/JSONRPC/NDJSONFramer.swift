/// Splits newline-delimited JSON: one JSON text per LF-terminated line.
///
/// Surrounding blanks and a CR before the LF are dropped and blank lines are skipped,
/// so hand-typed input and Windows line ends work. A line over the limit is reported once and the rest of it is
/// discarded as it streams past, never buffered.
public struct NDJSONFramer: MessageFramer, Sendable {
    public let limits: FramingLimits

    /// The start of a line whose end has not arrived yet.
    private var pending: [UInt8] = []
    /// Dropping the remainder of an oversized line.
    private var discarding = false

    public init(limits: FramingLimits = .default) {
        self.limits = limits
    }

    /// True while a line is partly read, e.g. when input ends without a final newline.
    public var isInsideMessage: Bool { !pending.isEmpty || discarding }

    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        onMessage: (UnsafeRawBufferPointer) -> Void,
        onError: (FramingError) -> Void
    ) {
        var index = 0
        let end = chunk.count
        while index < end {
            guard let newline = firstNewline(in: chunk, from: index) else {
                // No line end in the rest of the chunk: keep it for the next one.
                if discarding { return }
                if pending.count + (end - index) > limits.maxMessageBytes + 1 {
                    onError(.oversized(declaredLength: nil, limit: limits.maxMessageBytes))
                    pending = []
                    discarding = true
                    return
                }
                pending.append(contentsOf: chunk[index..<end])
                return
            }
            if discarding {
                discarding = false
            } else if pending.isEmpty {
                emitLine(UnsafeRawBufferPointer(rebasing: chunk[index..<newline]), onMessage: onMessage, onError: onError)
            } else {
                pending.append(contentsOf: chunk[index..<newline])
                pending.withUnsafeBytes { emitLine($0, onMessage: onMessage, onError: onError) }
                pending = []
            }
            index = newline + 1
        }
    }

    private func emitLine(
        _ line: UnsafeRawBufferPointer,
        onMessage: (UnsafeRawBufferPointer) -> Void,
        onError: (FramingError) -> Void
    ) {
        var start = 0
        var end = line.count
        while start < end, isBlank(line[start]) { start += 1 }
        while end > start, isBlank(line[end - 1]) { end -= 1 }
        if start == end { return }  // a blank line
        let content = UnsafeRawBufferPointer(rebasing: line[start..<end])
        if content.count > limits.maxMessageBytes {
            onError(.oversized(declaredLength: nil, limit: limits.maxMessageBytes))
            return
        }
        onMessage(content)
    }

    private func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    private func firstNewline(in chunk: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index < chunk.count {
            if chunk[index] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }
}
