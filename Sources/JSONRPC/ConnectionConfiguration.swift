import JanssonJSON

/// How a connection frames, limits and introduces itself.
public struct ConnectionConfiguration: Sendable {
    /// `auto` follows the client's first byte; replies always use the input's framing.
    public var framing: Framing
    /// Largest message accepted; larger ones are skipped and answered with -32600.
    public var maxMessageBytes: Int
    public var maxHeaderLineBytes: Int
    public var maxHeaderBytes: Int
    /// Reported as `serverInfo` in the `initialize` result.
    public var serverName: String
    public var serverVersion: String
    /// Returned verbatim as `capabilities` in the `initialize` result.
    public var capabilities: JSON
    /// Nesting and duplicate-key limits applied to every incoming message.
    public var parseOptions: JSONParseOptions
    /// Most requests at work at once (see `defaultMaxInFlight`); at the limit, each new
    /// request that needs work is answered at once with -32802 instead of being started.
    public var maxInFlight: Int

    /// 1024: far above what an editor or script keeps outstanding (tens), and above the
    /// 500 upstream requests a minute the API allows, so reaching it means upstream is
    /// minutes behind; yet small enough that the work it holds (a task, its params and
    /// its place in the rate limiter's queue, a few kB each) stays within a few MB.
    public static let defaultMaxInFlight = 1024

    public init(
        serverName: String,
        serverVersion: String,
        capabilities: JSON = [:],
        framing: Framing = .auto,
        maxMessageBytes: Int = 16 << 20,
        maxHeaderLineBytes: Int = 8 << 10,
        maxHeaderBytes: Int = 64 << 10,
        parseOptions: JSONParseOptions = .default,
        maxInFlight: Int = ConnectionConfiguration.defaultMaxInFlight
    ) {
        self.serverName = serverName
        self.serverVersion = serverVersion
        self.capabilities = capabilities
        self.framing = framing
        self.maxMessageBytes = maxMessageBytes
        self.maxHeaderLineBytes = maxHeaderLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.parseOptions = parseOptions
        self.maxInFlight = max(1, maxInFlight)
    }

    public var framingLimits: FramingLimits {
        FramingLimits(
            maxMessageBytes: maxMessageBytes, maxHeaderLineBytes: maxHeaderLineBytes, maxHeaderBytes: maxHeaderBytes)
    }
}
