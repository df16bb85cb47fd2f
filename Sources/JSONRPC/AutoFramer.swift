/// The framer a connection uses: a fixed framing, or `auto`, which waits for the first
/// non-whitespace byte and then commits to NDJSON (`{` or `[`) or LSP headers for good.
public struct AutoFramer: MessageFramer, Sendable {
    private enum Inner: Sendable {
        case undecided
        case lsp(ContentLengthFramer)
        case ndjson(NDJSONFramer)
    }

    public let limits: FramingLimits
    private var inner: Inner
    /// In `auto` mode, blanks before the first significant byte are not part of any
    /// message. Kept apart from `inner` because `decide(from:)` may commit to a framing
    /// before `feed` has skipped them.
    private var skipsLeadingBlanks: Bool

    public init(framing: Framing = .auto, limits: FramingLimits = .default) {
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
    public var framing: Framing? {
        switch inner {
        case .undecided: return nil
        case .lsp: return .lsp
        case .ndjson: return .ndjson
        }
    }

    /// True while a message is partly read.
    public var isInsideMessage: Bool {
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
    public mutating func decide(from chunk: UnsafeRawBufferPointer) -> Framing? {
        guard case .undecided = inner else { return framing }
        for byte in chunk {
            guard let detected = Framing.detect(firstByte: byte) else { continue }
            inner = detected == .ndjson
                ? .ndjson(NDJSONFramer(limits: limits)) : .lsp(ContentLengthFramer(limits: limits))
            return detected
        }
        return nil
    }

    public mutating func feed(
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
