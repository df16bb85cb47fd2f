/// The framer a connection uses: a fixed framing, or `auto`, which waits for the first
/// non-whitespace byte and then commits to NDJSON (`{` or `[`) or LSP headers for good.
///
/// A UTF-8 byte order mark (U+FEFF, `EF BB BF`) at the very start of the stream is
/// skipped in every mode: Windows tools write one, and it is never part of a message.
package struct AutoFramer: MessageFramer, Sendable {
    private enum Inner: Sendable {
        case undecided
        case lsp(ContentLengthFramer)
        case ndjson(NDJSONFramer)
    }

    package let limits: FramingLimits
    private var inner: Inner
    /// In `auto` mode, blanks before the first significant byte are not part of any
    /// message. Kept apart from `inner` because `decide(from:)` may commit to a framing
    /// before `feed` has skipped them.
    private var skipsLeadingBlanks: Bool
    /// Bytes of a leading byte order mark seen so far, possibly across chunks.
    private var bomMatched = 0
    /// True once the start of the stream is known to hold a BOM (skipped) or not.
    private var bomSettled = false

    package init(framing: Framing = .auto, limits: FramingLimits = .default) {
        self.limits = limits
        skipsLeadingBlanks = framing == .auto
        switch framing {
        case .auto: inner = .undecided
        case .lsp: inner = .lsp(ContentLengthFramer(limits: limits))
        case .ndjson: inner = .ndjson(NDJSONFramer(limits: limits))
        }
    }

    /// The framing in use, or `nil` while only whitespace has arrived in `auto` mode.
    /// Replies should use this framing.
    package var framing: Framing? {
        switch inner {
        case .undecided: return nil
        case .lsp: return .lsp
        case .ndjson: return .ndjson
        }
    }

    /// True while a message is partly read.
    package var isInsideMessage: Bool {
        switch inner {
        case .undecided: return false
        case .lsp(let framer): return framer.isInsideMessage
        case .ndjson(let framer): return framer.isInsideMessage
        }
    }

    /// Commits to a framing if `chunk` holds a non-whitespace byte and none was chosen
    /// yet, without consuming anything. Lets a caller learn the reply framing before
    /// the messages of the same chunk are dispatched.
    @discardableResult
    package mutating func decide(from chunk: UnsafeRawBufferPointer) -> Framing? {
        guard case .undecided = inner else { return framing }
        var chunk = chunk
        if !bomSettled {
            let scan = ByteOrderMark.scan(chunk, matched: bomMatched)
            guard scan.settled else { return nil }
            if scan.replay > 0 {
                // A lone EF (not a BOM after all) is the first significant byte.
                return commit(to: Framing.detect(firstByte: ByteOrderMark.bytes[0]) ?? .lsp)
            }
            chunk = UnsafeRawBufferPointer(rebasing: chunk[scan.skip...])
        }
        for byte in chunk {
            guard let detected = Framing.detect(firstByte: byte) else { continue }
            return commit(to: detected)
        }
        return nil
    }

    private mutating func commit(to detected: Framing) -> Framing {
        inner = detected == .ndjson
            ? .ndjson(NDJSONFramer(limits: limits)) : .lsp(ContentLengthFramer(limits: limits))
        return detected
    }

    package mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        onMessage: (UnsafeRawBufferPointer) -> Void,
        onError: (FramingError) -> Void
    ) {
        guard !bomSettled else {
            return feedAfterMark(chunk, onMessage: onMessage, onError: onError)
        }
        let scan = ByteOrderMark.scan(chunk, matched: bomMatched)
        bomMatched = scan.matched
        bomSettled = scan.settled
        guard scan.settled else { return }
        if scan.replay > 0 {
            // Not a BOM after all: the bytes held back are data.
            ByteOrderMark.bytes[..<scan.replay].withUnsafeBytes {
                feedAfterMark($0, onMessage: onMessage, onError: onError)
            }
        }
        feedAfterMark(UnsafeRawBufferPointer(rebasing: chunk[scan.skip...]), onMessage: onMessage, onError: onError)
    }

    private mutating func feedAfterMark(
        _ chunk: UnsafeRawBufferPointer,
        onMessage: (UnsafeRawBufferPointer) -> Void,
        onError: (FramingError) -> Void
    ) {
        var chunk = chunk
        if skipsLeadingBlanks {
            guard let start = chunk.firstIndex(where: { Framing.detect(firstByte: $0) != nil }) else { return }
            decide(from: chunk)
            skipsLeadingBlanks = false
            chunk = UnsafeRawBufferPointer(rebasing: chunk[start...])
        }
        switch inner {
        case .undecided:
            return
        case .lsp(var framer):
            inner = .undecided  // drop the copy held in `inner` so `framer` is mutated in place
            framer.feed(chunk, onMessage: onMessage, onError: onError)
            inner = .lsp(framer)
        case .ndjson(var framer):
            inner = .undecided
            framer.feed(chunk, onMessage: onMessage, onError: onError)
            inner = .ndjson(framer)
        }
    }
}

/// Recognises a UTF-8 byte order mark at the start of a stream, a chunk at a time.
private enum ByteOrderMark {
    static let bytes: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// `matched` bytes of the mark were seen in earlier chunks. `settled` is false while
    /// the chunk ended inside a possible mark (then all of it was used); otherwise `skip`
    /// bytes of the chunk belong to the mark, and `replay` bytes of `bytes` turned out to
    /// be data after all (a partial mark followed by something else).
    static func scan(_ chunk: UnsafeRawBufferPointer, matched: Int) -> (settled: Bool, matched: Int, skip: Int, replay: Int) {
        var matched = matched
        var index = 0
        while matched < bytes.count, index < chunk.count, chunk[index] == bytes[matched] {
            matched += 1
            index += 1
        }
        if matched == bytes.count { return (true, matched, index, 0) }
        if index == chunk.count { return (false, matched, index, 0) }
        return (true, matched, index, matched)
    }
}
