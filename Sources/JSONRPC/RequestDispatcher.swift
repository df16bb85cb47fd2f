import JanssonJSON
import Logging

/// Decides what each decoded message does and starts it: the session's lifecycle and
/// built-ins, the initialize gate, the method table's fast paths and handlers, the
/// in-flight limit, batches, cancellation, and the client's responses to our own requests.
/// Reader-thread state, hence not `Sendable`; what outlives a call (tasks, answers) goes to
/// the tracker and the outbox.
struct RequestDispatcher: InboundEventHandler {
    private var lifecycle: any SessionLifecycle
    private var gate = InitializeGate()
    private let session: any RPCSession
    private let methods: MethodTable
    private let tracker: RequestTracker
    private let outbox: Outbox
    private let outgoing: OutgoingRequests
    private let logger: Logger
    private let cancelMethod: String
    private let cancelIDMember: String
    private let busyError: RPCError

    init(
        session: any RPCSession, methods: MethodTable, maxInFlight: Int, tracker: RequestTracker, outbox: Outbox,
        outgoing: OutgoingRequests, logger: Logger
    ) {
        lifecycle = session.makeLifecycle()
        self.session = session
        var table = methods
        for (name, handler) in session.builtInMethods { table.registerBuiltIn(name, handler: handler) }
        self.methods = table
        self.tracker = tracker
        self.outbox = outbox
        self.outgoing = outgoing
        self.logger = logger
        cancelMethod = session.cancelNotification.method
        cancelIDMember = session.cancelNotification.idMember
        busyError = .serverBusy(limit: maxInFlight)
    }

    mutating func handle(_ event: InboundEvent) {
        switch event {
        case .unreadable(let error): outbox.answer(.null, error: error, to: .direct)
        case .message(let message): handle(message, destination: .direct)
        case .batch(let messages): handleBatch(messages)
        }
    }

    private mutating func handle(_ message: InboundMessage, destination: ResponseDestination?) {
        switch message {
        case .invalid(let failure):
            if let destination { outbox.answer(failure.id, error: failure.error, to: destination) }
        case .request(let request):
            if let destination { handleRequest(request, destination: destination) }
        case .notification(let notification):
            handleNotification(notification)
        case .response(let response?):
            outgoing.receive(response)
        case .response(nil):
            logger.debug("Ignored a response with no usable id")
        }
    }

    private mutating func handleBatch(_ messages: [InboundMessage]) {
        let expected = messages.reduce(0) { $0 + ($1.isAnswered ? 1 : 0) }
        let collector = expected == 0 ? nil : outbox.batch(slots: messages.count, expected: expected, backlog: tracker.heldAnswers)
        for (index, message) in messages.enumerated() {
            handle(message, destination: collector.map { ResponseDestination.batch($0, index: index) })
        }
        collector?.holdReadyAnswers()
    }

    // MARK: - Requests

    private mutating func handleRequest(_ request: RPCRequest, destination: ResponseDestination) {
        switch lifecycle.admit(request: request.method, params: request.params) {
        case .refuse(let error):
            outbox.answer(request.id, error: error, to: destination)
        case .initialize:
            let session = self.session
            let answerGuard = AnswerGuard()
            let task = run(request, answerGuard: answerGuard, after: nil, destination: destination) { params, _ in
                try await session.initialize(params)
            }
            gate.close(behind: task, answerGuard: answerGuard)
        case .shutdown:
            let earlier = tracker.unfinishedTasks()
            let session = self.session
            run(request, after: nil, destination: destination) { _, _ in
                for task in earlier { await task.value }
                await session.shutdown()
                return .json(.null)
            }
        case .proceed:
            switch methods.requests[request.method] {
            case .builtIn(let answer)?:
                answerInline(request, destination: destination) { try answer($0) }
            case .handler(let immediate, let handler)?:
                if let immediate, gate.pending() == nil,
                    answerInline(request, destination: destination, with: immediate)
                {
                    return
                }
                guard tracker.hasRoom() else {
                    outbox.answer(request.id, error: busyError, to: destination)
                    return
                }
                run(request, after: gate.pending(), destination: destination, handler: handler)
            case nil:
                outbox.answer(request.id, error: .methodNotFound(request.method), to: destination)
            }
        }
    }

    /// Answers on the reader thread, with no task; false when `answer` returned `nil`
    /// (a fast path's miss).
    @discardableResult
    private func answerInline(
        _ request: RPCRequest, destination: ResponseDestination, with answer: (JSON?) throws -> RPCResult?
    ) -> Bool {
        let outcome: Result<RPCResult, any Error>
        do {
            guard let result = try answer(request.params) else { return false }
            outcome = .success(result)
        } catch {
            outcome = .failure(error)
        }
        outbox.answer(request.id, outcome: outcome, method: request.method, to: destination)
        return true
    }

    /// Runs a request handler in its own task and answers exactly once.
    @discardableResult
    private func run(
        _ request: RPCRequest, answerGuard: AnswerGuard = AnswerGuard(), after gate: Task<Void, Never>?,
        destination: ResponseDestination, handler: @escaping RPCMethodHandler
    ) -> Task<Void, Never> {
        let outbox = self.outbox
        let context = RequestContext(
            id: request.id, method: request.method, answerGuard: answerGuard, outbox: outbox, outgoing: outgoing)
        return tracker.start(key: .request(request.id), answerGuard: answerGuard, destination: destination, after: gate) {
            guard !answerGuard.isCancelled else { return }
            let outcome: Result<RPCResult, any Error>
            do {
                outcome = .success(try await handler(request.params, context))
            } catch {
                outcome = .failure(error)
            }
            guard answerGuard.claimAnswer() else { return }
            outbox.answer(request.id, outcome: outcome, method: request.method, to: destination)
        }
    }

    // MARK: - Notifications

    private mutating func handleNotification(_ notification: RPCNotification) {
        if notification.method == cancelMethod { return cancel(notification.params) }
        switch lifecycle.admit(notification: notification.method) {
        case .exit(let code):
            session.exit(code: code)
        case .ignore:
            logger.trace("Ignored the notification '\(notification.method)': the session does not admit it now")
        case .proceed:
            if let handler = methods.notifications[notification.method] {
                guard tracker.hasRoom() else { return dropNotification(notification.method) }
                tracker.start(after: gate.pending()) { await handler(notification.params) }
            } else if case .handler(_, let handler)? = methods.requests[notification.method] {
                guard tracker.hasRoom() else { return dropNotification(notification.method) }
                // A notification is a request whose answer nobody wants: run it, drop the outcome.
                let context = RequestContext(
                    id: nil, method: notification.method, answerGuard: nil, outbox: outbox, outgoing: outgoing)
                tracker.start(after: gate.pending()) {
                    _ = try? await handler(notification.params, context)
                }
            } else {
                logger.trace("Ignored the notification '\(notification.method)': nothing handles it")
            }
        }
    }

    /// At the in-flight cap a notification cannot be answered with -32802: nobody waits
    /// for an answer, so dropping it is the only way to refuse it.
    private func dropNotification(_ method: String) {
        logger.debug("Dropped the notification '\(method)': too much work is in flight")
    }

    private func cancel(_ params: JSON?) {
        guard let idValue = params?[cancelIDMember], let id = RequestID(json: idValue) else {
            logger.debug("Ignored a \(cancelMethod) without a usable '\(cancelIDMember)'")
            return
        }
        switch tracker.cancel(id) {
        case .unknown, .cancelled(answerTo: nil):
            return
        case .committed:
            // Stopping now could lose what only the answer carries (a generated secret).
            logger.debug("Ignored a \(cancelMethod): the request has passed the point where it can be cancelled")
        case .cancelled(answerTo: let destination?):
            outbox.answerCancelled(id, with: session.cancelledAnswer(.client), to: destination)
        }
    }
}
