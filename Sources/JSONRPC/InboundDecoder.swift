import JanssonJSON
import Logging

/// Turns input bytes into messages: the framer, the JSON parse with its limits, and the
/// sorting into requests, notifications, responses and invalid messages. Owned by the
/// reader thread, hence not `Sendable`. It is the one place that knows the input's framing,
/// and publishes it (to the outbox) as soon as it is decided.
struct InboundDecoder {
    private var framer: AutoFramer
    private let parseOptions: JSONParseOptions
    private let replyFraming: ReplyFraming
    private let logger: Logger

    init(configuration: ConnectionConfiguration, replyFraming: ReplyFraming, logger: Logger) {
        framer = AutoFramer(framing: configuration.framing, limits: configuration.framingLimits)
        parseOptions = configuration.parseOptions
        self.replyFraming = replyFraming
        self.logger = logger
    }

    /// True while a message is partly read.
    var isInsideMessage: Bool { framer.isInsideMessage }

    /// Decodes everything in `bytes`, handing each event to `handler` in stream order. The
    /// framing is published before the first event of the chunk, so replies use it.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, to handler: inout some InboundEventHandler) {
        if replyFraming.isUndecided, let decided = framer.decide(from: bytes) {
            replyFraming.publish(decided)
        }
        let parseOptions = self.parseOptions
        let logger = self.logger
        framer.feed(
            bytes,
            onMessage: { body in handler.handle(Self.decode(body, options: parseOptions)) },
            onError: { error in
                logger.warning("Bad input from the client: \(error)")
                handler.handle(.unreadable(error.answer))
            })
    }

    private static func decode(_ body: UnsafeRawBufferPointer, options: JSONParseOptions) -> InboundEvent {
        let json: JSON
        do {
            json = try JSON.parse(body, options: options)
        } catch {
            return .unreadable(.parseError("the message is not valid JSON: \(error)"))
        }
        guard case .array(let entries) = json else { return .message(InboundMessage(json)) }
        guard !entries.isEmpty else { return .unreadable(.invalidRequest("an empty batch [] is not a request")) }
        return .batch(entries.map(InboundMessage.init))
    }
}

/// Whoever acts on decoded input (the dispatcher); a protocol so the decoder can take it
/// `inout` beside itself, with no closure capturing both.
protocol InboundEventHandler {
    mutating func handle(_ event: InboundEvent)
}

extension FramingError {
    /// The error a framing problem is answered with (id null): -32600 for a message over
    /// the limit, -32700 for a header that cannot be read. A forwarder answers with it too.
    package var answer: RPCError {
        switch self {
        case .oversized: return .invalidRequest(description)
        case .invalidHeader, .headerTooLong: return .parseError(description)
        }
    }
}
