import JanssonJSON

/// What a handler knows about the call it is serving, and its way to talk back early.
package struct RequestContext: Sendable {
    /// The request id; `nil` when the call is a notification (no response will be sent).
    package let id: RequestID?
    package let method: String
    private let emitter: Emitter
    private let answerGuard: AnswerGuard?

    /// Where `notify` and `request` go; the connection case avoids allocating closures per request.
    private enum Emitter: Sendable {
        case connection(Outbox, OutgoingRequests)
        case closures(notify: @Sendable (String, JSON) -> Void, request: (@Sendable (String, JSON) async throws -> JSON)?)
    }

    /// A context detached from any connection, for calling a handler directly (e.g. in
    /// tests); `notify` hands notifications to `notify`, and `request` answers the handler's
    /// requests to the client (without it they fail with `OutgoingRequestError.noConnection`).
    package init(
        id: RequestID?, method: String, notify: @escaping @Sendable (String, JSON) -> Void = { _, _ in },
        request: (@Sendable (String, JSON) async throws -> JSON)? = nil
    ) {
        self.id = id
        self.method = method
        self.emitter = .closures(notify: notify, request: request)
        self.answerGuard = nil
    }

    init(id: RequestID?, method: String, answerGuard: AnswerGuard?, outbox: Outbox, outgoing: OutgoingRequests) {
        self.id = id
        self.method = method
        self.emitter = .connection(outbox, outgoing)
        self.answerGuard = answerGuard
    }

    /// Enqueues a notification frame now, so it is written before this request's response.
    package func notify(_ method: String, params: JSON) {
        switch emitter {
        case .connection(let outbox, _): outbox.notify(method, params: params)
        case .closures(let emit, _): emit(method, params)
        }
    }

    /// Sends a request to the client (MCP's `elicitation/create`, say) and waits for its
    /// response; returns its `result`.
    ///
    /// Throws `OutgoingRequestError` when the client answers with an error, closes the
    /// connection first, lets `timeout` pass (the client is then told our request is moot) or
    /// leaves too many of our requests unanswered, and
    /// `CancellationError` when this request is cancelled while waiting (the client is then
    /// told, with the session's cancel notification, that our request is moot).
    package func request(_ method: String, params: JSON, timeout: Duration? = nil) async throws -> JSON {
        switch emitter {
        case .connection(_, let outgoing): return try await outgoing.send(method, params: params, timeout: timeout)
        case .closures(_, let answerer?): return try await answerer(method, params)
        case .closures(_, nil): throw OutgoingRequestError.noConnection
        }
    }

    /// True once the client cancelled this request (or the input closed while it ran).
    /// The client has then already been given the session's cancelled answer; any result
    /// is discarded.
    package var isCancelled: Bool {
        answerGuard?.isCancelled ?? Task.isCancelled
    }

    /// Makes the rest of this request uncancellable, for work whose effect cannot be taken
    /// back once it has started, such as creating a key upstream whose secret exists only
    /// in the answer. From then on a cancellation neither answers nor cancels the task, so
    /// the handler's own result is the one response. Returns false when the request was
    /// cancelled before this call: the client has its cancelled answer already, so the
    /// handler must not start the work.
    package func commitToCompletion() -> Bool {
        guard let answerGuard else { return !Task.isCancelled }
        return answerGuard.commit()
    }
}
