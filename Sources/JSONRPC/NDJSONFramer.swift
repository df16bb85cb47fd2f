/// Splits newline-delimited JSON: one JSON text per LF-terminated line.
///
/// Surrounding blanks and a CR before the LF are dropped and blank lines are skipped,
/// so hand-typed input and Windows line ends work. A line over the limit is reported once and the rest of it is
/// discarded as it streams past, never buffered. The limit applies to the line without
/// its surrounding blanks however the line was split into reads, so the same stream is
/// accepted or refused the same way whatever the pipe delivers at a time.
package struct NDJSONFramer: MessageFramer, Sendable {
    package let limits: FramingLimits

    /// The start of a line whose end has not arrived yet, without its leading blanks.
    private var pending: [UInt8] = []
    /// Dropping the remainder of an oversized line.
    private var discarding = false
    /// `pending` is full to the limit and blanks after it were dropped: the line is still
    /// good if nothing but blanks comes before its end.
    private var droppedTrailingBlanks = false

    package init(limits: FramingLimits = .default) {
        self.limits = limits
    }

    /// True while a line is partly read, e.g. when input ends without a final newline.
    package var isInsideMessage: Bool { !pending.isEmpty || discarding }

    package mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        onMessage: (UnsafeRawBufferPointer) -> Void,
        onError: (FramingError) -> Void
    ) {
        var index = 0
        let end = chunk.count
        while index < end {
            guard let newline = firstNewline(in: chunk, from: index) else {
                // No line end in the rest of the chunk: keep it for the next one.
                absorb(UnsafeRawBufferPointer(rebasing: chunk[index..<end]), onError: onError)
                return
            }
            if discarding {
                discarding = false
            } else if pending.isEmpty {
                emitLine(UnsafeRawBufferPointer(rebasing: chunk[index..<newline]), onMessage: onMessage, onError: onError)
            } else {
                absorb(UnsafeRawBufferPointer(rebasing: chunk[index..<newline]), onError: onError)
                if !discarding {
                    pending.withUnsafeBytes { emitLine($0, onMessage: onMessage, onError: onError) }
                }
                discarding = false
            }
            pending = []
            droppedTrailingBlanks = false
            index = newline + 1
        }
    }

    /// Keeps part of an unfinished line, unless it makes the line too long. Only the
    /// trimmed line counts against the limit, as in `emitLine`; blanks past the limit are
    /// not stored, because a line that continues after them is too long anyway.
    private mutating func absorb(_ part: UnsafeRawBufferPointer, onError: (FramingError) -> Void) {
        guard !discarding else { return }
        var start = 0
        if pending.isEmpty {
            while start < part.count, isBlank(part[start]) { start += 1 }
        }
        var significantEnd = part.count
        while significantEnd > start, isBlank(part[significantEnd - 1]) { significantEnd -= 1 }
        let hasContent = significantEnd > start
        if hasContent && (droppedTrailingBlanks || pending.count + (significantEnd - start) > limits.maxMessageBytes) {
            onError(.oversized(declaredLength: nil, limit: limits.maxMessageBytes))
            pending = []
            droppedTrailingBlanks = false
            discarding = true
            return
        }
        if droppedTrailingBlanks { return }
        if pending.count + (part.count - start) <= limits.maxMessageBytes {
            pending.append(contentsOf: part[start...])
        } else {
            pending.append(contentsOf: part[start..<significantEnd])
            droppedTrailingBlanks = true
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
