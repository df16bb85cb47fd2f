import JanssonJSON

/// What a handler knows about the call it is serving, and its way to talk back early.
package struct RequestContext: Sendable {
    /// The request id; `nil` when the call is a notification (no response will be sent).
    package let id: RequestID?
    package let method: String
    private let emitter: Emitter
    private let answerGuard: AnswerGuard?

    /// Where `notify` goes; the outbox case avoids allocating a closure per request.
    private enum Emitter: Sendable {
        case outbox(Outbox)
        case closure(@Sendable (String, JSON) -> Void)
    }

    /// A context detached from any connection, for calling a handler directly (e.g. in
    /// tests); `notify` hands notifications to `notify`.
    package init(id: RequestID?, method: String, notify: @escaping @Sendable (String, JSON) -> Void = { _, _ in }) {
        self.id = id
        self.method = method
        self.emitter = .closure(notify)
        self.answerGuard = nil
    }

    init(id: RequestID?, method: String, answerGuard: AnswerGuard?, outbox: Outbox) {
        self.id = id
        self.method = method
        self.emitter = .outbox(outbox)
        self.answerGuard = answerGuard
    }

    /// Enqueues a notification frame now, so it is written before this request's response.
    package func notify(_ method: String, params: JSON) {
        switch emitter {
        case .outbox(let outbox): outbox.notify(method, params: params)
        case .closure(let emit): emit(method, params)
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
