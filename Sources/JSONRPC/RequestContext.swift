import JanssonJSON

/// What a handler knows about the call it is serving, and its way to talk back early.
public struct RequestContext: Sendable {
    /// The request id; `nil` when the call is a notification (no response will be sent).
    public let id: RequestID?
    public let method: String
    private let emitter: Emitter
    private let cancellation: CancellationFlag?

    /// Where `notify` goes; the connection case avoids allocating a closure per request.
    private enum Emitter: Sendable {
        case connection(RPCConnection)
        case closure(@Sendable (String, JSON) -> Void)
    }

    /// A context detached from any connection, for calling a handler directly (e.g. in
    /// tests); `notify` hands notifications to `notify`.
    public init(id: RequestID?, method: String, notify: @escaping @Sendable (String, JSON) -> Void = { _, _ in }) {
        self.id = id
        self.method = method
        self.emitter = .closure(notify)
        self.cancellation = nil
    }

    init(id: RequestID?, method: String, cancellation: CancellationFlag?, connection: RPCConnection) {
        self.id = id
        self.method = method
        self.emitter = .connection(connection)
        self.cancellation = cancellation
    }

    /// Enqueues a notification frame now, so it is written before this request's response.
    public func notify(_ method: String, params: JSON) {
        switch emitter {
        case .connection(let connection): connection.notify(method, params: params)
        case .closure(let emit): emit(method, params)
        }
    }

    /// True once the client cancelled this request (or the input closed while it ran).
    /// The client has then already been answered with -32800; any result is discarded.
    public var isCancelled: Bool {
        cancellation?.isCancelled ?? Task.isCancelled
    }
}
