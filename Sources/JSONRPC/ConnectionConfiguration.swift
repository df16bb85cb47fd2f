import JanssonJSON

/// How a connection frames and limits its input, and how much work it takes on at once.
/// What the server says about itself is the session's business (see `RPCSession`).
package struct ConnectionConfiguration: Sendable {
    /// `auto` follows the client's first byte; replies always use the input's framing.
    package var framing: Framing
    /// Largest message accepted; larger ones are skipped and answered with -32600.
    package var maxMessageBytes: Int
    package var maxHeaderLineBytes: Int
    package var maxHeaderBytes: Int
    /// Nesting and duplicate-key limits applied to every incoming message.
    package var parseOptions: JSONParseOptions
    /// Most requests at work at once (see `defaultMaxInFlight`); at the limit, each new
    /// request that needs work is answered at once with -32802 instead of being started.
    package var maxInFlight: Int
    /// Most requests of ours (an MCP elicitation) awaiting the client's answer at once; one
    /// more fails at once with `OutgoingRequestError.tooManyPending`.
    package var maxPendingRequestsToClient: Int

    /// 16 MiB: far above any real request (the largest, a key list, is kilobytes), yet a
    /// bound on what one message may make us buffer. The one source of this default.
    package static let defaultMaxMessageBytes = 16 << 20

    /// 1024: far above what an editor or script keeps outstanding (tens), and above the
    /// 500 upstream requests a minute the API allows, so reaching it means upstream is
    /// minutes behind; yet small enough that the work it holds (a task, its params and
    /// its place in the rate limiter's queue, a few kB each) stays within a few MB.
    package static let defaultMaxInFlight = 1024

    /// 64: each waits on a person answering a prompt, so a real client has one or two open.
    package static let defaultMaxPendingRequestsToClient = 64

    package init(
        framing: Framing = .auto,
        maxMessageBytes: Int = ConnectionConfiguration.defaultMaxMessageBytes,
        maxHeaderLineBytes: Int = 8 << 10,
        maxHeaderBytes: Int = 64 << 10,
        parseOptions: JSONParseOptions = .default,
        maxInFlight: Int = ConnectionConfiguration.defaultMaxInFlight,
        maxPendingRequestsToClient: Int = ConnectionConfiguration.defaultMaxPendingRequestsToClient
    ) {
        self.framing = framing
        self.maxMessageBytes = maxMessageBytes
        self.maxHeaderLineBytes = maxHeaderLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.parseOptions = parseOptions
        self.maxInFlight = max(1, maxInFlight)
        self.maxPendingRequestsToClient = max(1, maxPendingRequestsToClient)
    }

    var framingLimits: FramingLimits {
        FramingLimits(
            maxMessageBytes: maxMessageBytes, maxHeaderLineBytes: maxHeaderLineBytes, maxHeaderBytes: maxHeaderBytes)
    }
}
