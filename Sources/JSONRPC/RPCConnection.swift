import JanssonJSON
import Logging
import Synchronization

/// One JSON-RPC 2.0 peer connection, driven purely by bytes: the transport calls
/// `receive` with whatever it read and writes out the frames given to the sink.
///
/// A method with a synchronous fast path (a cache lookup) is answered inline on the
/// reader thread, with no task at all. Other requests run concurrently, one task each, so
/// replies may come out of order. Each task starts immediately on the reader thread and
/// leaves it at its first suspension: a handler that answers without awaiting costs no
/// thread hop, and one that awaits carries on in the global pool. The lifecycle rules are
/// the lenient LSP ones: `initialize` is optional but, when sent, must come first; after
/// `shutdown` every request is refused; `exit` reports the exit code. `$/cancelRequest`
/// is handled the moment it is read, ahead of queued work.
///
/// Work in flight is capped (`ConnectionConfiguration.maxInFlight`): a request that would
/// start a task while the cap is reached is answered at once with -32802 instead, so
/// memory stays bounded whatever the client sends, and input keeps flowing, cancellations
/// included. Answers that need no task (`$/ping`, a cache hit) are never refused.
public final class RPCConnection: Sendable {
    private let configuration: ConnectionConfiguration
    private let methods: MethodTable
    private let sink: any FrameSink
    private let logger: Logger
    private let hooks: ConnectionHooks
    /// Touched only by the reader thread; a mutex because the class must be Sendable.
    private let input: Mutex<AutoFramer>
    /// The reply framing (see `FramingCode`), read on every response without locking.
    private let framingCode: Atomic<UInt8>
    private let inputClosed = Atomic<Bool>(false)
    /// Reader-thread state; see `LifecycleState`.
    private let lifecycle = Mutex(LifecycleState())
    /// Set by the `initialize` task when it has answered, so the gate can be dropped.
    private let initializeFinished = Atomic<Bool>(false)
    private let tasks = Mutex(TaskTable())
    /// Started tasks not yet finished; counted with atomics so task threads take no lock.
    private let pending = Atomic<Int>(0)
    private let idleWaitersPresent = Atomic<Bool>(false)
    private let initializeResult: RPCResult
    /// Ready answers waiting in unfinished batches; they count against `maxInFlight` too.
    private let heldAnswers = HeldAnswers()
    private let busyError: RPCError
    /// Set from the first refusal at the cap until the work in flight falls to half of
    /// it, so a client hammering a full server makes one warning, not one per request.
    private let saturated = Atomic<Bool>(false)
    private let refusedWhileSaturated = Atomic<Int>(0)

    public init(
        configuration: ConnectionConfiguration,
        methods: MethodTable,
        sink: any FrameSink,
        logger: Logger,
        hooks: ConnectionHooks = ConnectionHooks()
    ) {
        self.configuration = configuration
        self.methods = methods
        self.sink = sink
        self.logger = logger
        self.hooks = hooks
        input = Mutex(AutoFramer(framing: configuration.framing, limits: configuration.framingLimits))
        framingCode = Atomic(FramingCode.code(configuration.framing))
        busyError = .serverBusy(limit: configuration.maxInFlight)
        let result: JSON = [
            "serverInfo": ["name": .string(configuration.serverName), "version": .string(configuration.serverVersion)],
            "capabilities": configuration.capabilities,
        ]
        initializeResult = (try? result.serialized()).map(RPCResult.serialized) ?? .json(result)
    }

    /// The framing replies use: the configured one, or in `auto` mode the one detected
    /// from the input; `nil` while `auto` has seen no input yet.
    public var framing: Framing? {
        FramingCode.framing(framingCode.load(ordering: .acquiring))
    }

    /// Parses and dispatches everything in `bytes`. Call from one reader thread only. It
    /// runs handlers up to their first suspension, never waits for one to finish, and
    /// must not be re-entered from a handler.
    public func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !inputClosed.load(ordering: .relaxed) else { return }
        input.withLock { framer in
            if framingCode.load(ordering: .relaxed) == 0, let decided = framer.decide(from: bytes) {
                framingCode.store(FramingCode.code(decided), ordering: .releasing)
            }
            framer.feed(bytes, onMessage: { self.handleBody($0) }, onError: { self.handleFramingError($0) })
        }
    }

    /// Convenience for callers holding an array.
    public func receive(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { receive($0) }
    }

    /// The input reached end of file: waits up to `timeout` for running work to finish,
    /// then cancels whatever is left (answering it with -32800) and returns.
    public func finishInput(timeout: Duration) async {
        inputClosed.store(true, ordering: .relaxed)
        if input.withLock({ $0.isInsideMessage }) {
            logger.debug("The input ended in the middle of a message; the partial message was dropped")
        }
        guard await waitForIdle(timeout: timeout) else {
            cancelEverything()
            return
        }
    }

    /// Sends a server-initiated notification, e.g. from background polling.
    public func notify(_ method: String, params: JSON) {
        let message: JSON = ["jsonrpc": "2.0", "method": .string(method), "params": params]
        guard let body = try? message.serialized() else {
            logger.error("Dropped the '\(method)' notification: its params cannot be encoded as JSON")
            return
        }
        sink.write(encodeFrame(body: body, framing: replyFraming))
    }

    // MARK: - Input

    private var replyFraming: Framing {
        FramingCode.framing(framingCode.load(ordering: .acquiring)) ?? .lsp
    }

    private func handleFramingError(_ error: FramingError) {
        logger.warning("Bad input from the client: \(error)")
        let rpcError: RPCError
        switch error {
        case .oversized: rpcError = .invalidRequest(error.description)
        case .invalidHeader, .headerTooLong: rpcError = .parseError(error.description)
        }
        deliver(.failure(id: .null, error: rpcError), to: .direct)
    }

    private func handleBody(_ body: UnsafeRawBufferPointer) {
        let json: JSON
        do {
            json = try JSON.parse(body, options: configuration.parseOptions)
        } catch {
            deliver(.failure(id: .null, error: .parseError("the message is not valid JSON: \(error)")), to: .direct)
            return
        }
        if case .array(let entries) = json {
            handleBatch(entries)
        } else {
            switch Incoming(json) {
            case .invalid(let failure): deliver(.failure(id: failure.id, error: failure.error), to: .direct)
            case .request(let request): handleRequest(request, destination: .direct)
            case .notification(let notification): handleNotification(notification)
            case .response: logger.debug("Ignored a response: this server sends no requests")
            }
        }
    }

    private func handleBatch(_ entries: [JSON]) {
        guard !entries.isEmpty else {
            deliver(.failure(id: .null, error: .invalidRequest("an empty batch [] is not a request")), to: .direct)
            return
        }
        let messages = entries.map(Incoming.init)
        let expected = messages.reduce(0) { $0 + ($1.isAnswered ? 1 : 0) }
        // The collector must not hold `self`: the task table keeps the collector (as a
        // response destination) until it is swept, and `self` keeps the table, so a
        // connection dropped after a batch would never be freed. The framing is settled
        // before any message is dispatched, so it can be read now.
        let sink = self.sink
        let framing = replyFraming
        let collector: BatchCollector? =
            expected == 0
            ? nil
            : BatchCollector(slots: messages.count, expected: expected, backlog: heldAnswers) { bodies in
                sink.write(batchFrame(bodies, framing: framing))
            }
        for (index, message) in messages.enumerated() {
            switch message {
            case .invalid(let failure):
                if let collector {
                    deliver(.failure(id: failure.id, error: failure.error), to: .batch(collector, index: index))
                }
            case .request(let request):
                if let collector { handleRequest(request, destination: .batch(collector, index: index)) }
            case .notification(let notification):
                handleNotification(notification)
            case .response:
                logger.debug("Ignored a response in a batch: this server sends no requests")
            }
        }
        collector?.holdReadyAnswers()
    }

    // MARK: - Requests

    private enum Admission {
        case refuse(RPCError)
        case initialize
        case shutdown
        case proceed
    }

    private func handleRequest(_ request: RPCRequest, destination: ResponseDestination) {
        let admission = lifecycle.withLock { state -> Admission in
            if state.shutdownRequested {
                return .refuse(.invalidRequest("the server is shutting down; only the 'exit' notification is accepted"))
            }
            if request.method == "initialize" {
                if state.receivedInitialize {
                    return .refuse(.invalidRequest("'initialize' was already received; send it only once"))
                }
                if state.receivedRequest {
                    return .refuse(.invalidRequest("'initialize' must be the first request, but other requests came before it"))
                }
                state.receivedRequest = true
                state.receivedInitialize = true
                return .initialize
            }
            state.receivedRequest = true
            if request.method == "shutdown" {
                state.shutdownRequested = true
                return .shutdown
            }
            return .proceed
        }

        switch admission {
        case .refuse(let error):
            deliver(.failure(id: request.id, error: error), to: destination)
        case .initialize:
            do throws(RPCError) {
                try validateInitializeParams(request.params)
            } catch {
                deliver(.failure(id: request.id, error: error), to: destination)
                return
            }
            let hooks = self.hooks
            let result = initializeResult
            run(request, role: .initialize, destination: destination) { params, _ in
                try await hooks.onInitialize(params)
                return result
            }
        case .shutdown:
            let earlier = unfinishedTasks()
            let hooks = self.hooks
            run(request, role: .independent, destination: destination) { _, _ in
                for task in earlier { await task.value }
                await hooks.onShutdown()
                return .json(.null)
            }
        case .proceed:
            if request.method == "$/ping" {
                deliver(.success(id: request.id, result: emptyObject), to: destination)
            } else if let method = methods.requests[request.method] {
                if let immediate = method.immediate, answerImmediately(request, with: immediate, to: destination) {
                    return
                }
                guard hasRoomForWork() else {
                    deliver(.failure(id: request.id, error: busyError), to: destination)
                    return
                }
                run(request, role: .waitsForInitialize, destination: destination, handler: method.handler)
            } else {
                deliver(.failure(id: request.id, error: .methodNotFound(request.method)), to: destination)
            }
        }
    }

    /// Whether one more task fits under `maxInFlight`: two relaxed loads on the hot path.
    /// Logs when the cap is first reached, and when the load has fallen to half of it.
    private func hasRoomForWork() -> Bool {
        let inFlight = pending.load(ordering: .relaxed) + heldAnswers.value
        if inFlight < configuration.maxInFlight {
            if saturated.load(ordering: .relaxed), inFlight <= configuration.maxInFlight / 2,
                saturated.exchange(false, ordering: .relaxed)
            {
                let refused = refusedWhileSaturated.exchange(0, ordering: .relaxed)
                logger.notice(
                    "Back under half the in-flight limit; \(refused) request(s) were answered with -32802 meanwhile")
            }
            return true
        }
        refusedWhileSaturated.add(1, ordering: .relaxed)
        if !saturated.exchange(true, ordering: .relaxed) {
            logger.warning(
                "\(configuration.maxInFlight) requests are in flight (--max-in-flight): new ones are answered with -32802 (busy, retry later) until some finish")
        }
        return false
    }

    /// Tries a method's synchronous fast path; true when it answered. Skipped while an
    /// `initialize` is still running, since work received meanwhile must wait for it.
    private func answerImmediately(
        _ request: RPCRequest, with immediate: RPCImmediateHandler, to destination: ResponseDestination
    ) -> Bool {
        guard lifecycleGate() == nil else { return false }
        let outcome: Result<RPCResult, any Error>
        do {
            guard let result = try immediate(request.params) else { return false }
            outcome = .success(result)
        } catch {
            outcome = .failure(error)
        }
        deliver(envelope(for: outcome, id: request.id, method: request.method), to: destination)
        return true
    }

    /// The running `initialize` task that ordinary work must wait for, if any; drops the
    /// gate once that task has finished.
    private func lifecycleGate() -> Task<Void, Never>? {
        lifecycle.withLock { state in
            if state.initializeGate != nil, initializeFinished.load(ordering: .acquiring) {
                state.initializeGate = nil
            }
            return state.initializeGate
        }
    }

    /// How a task relates to a running `initialize`.
    private enum TaskRole {
        /// Ordinary work: waits until a running `initialize` has been answered.
        case waitsForInitialize
        /// `initialize` itself: later work waits for it.
        case initialize
        /// Runs at once (`shutdown` does its own waiting).
        case independent
    }

    /// Runs a request handler in its own task and answers exactly once.
    private func run(
        _ request: RPCRequest, role: TaskRole, destination: ResponseDestination, handler: @escaping RPCMethodHandler
    ) {
        let flag = CancellationFlag()
        let context = RequestContext(id: request.id, method: request.method, cancellation: flag, connection: self)
        launch(role: role, key: .request(request.id), flag: flag, destination: destination) { [self] in
            guard !flag.isCancelled else { return }
            let outcome: Result<RPCResult, any Error>
            do {
                outcome = .success(try await handler(request.params, context))
            } catch {
                outcome = .failure(error)
            }
            guard flag.claimAnswer() else { return }
            deliver(envelope(for: outcome, id: request.id, method: request.method), to: destination)
        }
    }

    private func envelope(for outcome: Result<RPCResult, any Error>, id: RequestID, method: String) -> Answer {
        switch outcome {
        case .success(let result):
            return .success(id: id, result: result)
        case .failure(let error as RPCError):
            return .failure(id: id, error: error)
        case .failure(is CancellationError):
            return .failure(id: id, error: .requestCancelled)
        case .failure(let error):
            // Only the type is logged: an error's description might quote a secret.
            logger.error(
                "The handler for '\(method)' failed with an unexpected error",
                metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            return .failure(id: id, error: .internalError("the server failed while handling '\(method)'; see its log"))
        }
    }

    // MARK: - Notifications

    private func handleNotification(_ notification: RPCNotification) {
        switch notification.method {
        case "$/cancelRequest":
            cancel(notification.params)
        case "exit":
            let code: Int32 = lifecycle.withLock { $0.shutdownRequested } ? 0 : 1
            hooks.onExit(code)
        default:
            if let handler = methods.notifications[notification.method] {
                guard hasRoomForWork() else { return dropNotification(notification.method) }
                launch(role: .waitsForInitialize) { await handler(notification.params) }
            } else if let handler = methods.requests[notification.method]?.handler {
                guard hasRoomForWork() else { return dropNotification(notification.method) }
                // A notification is a request whose answer nobody wants: run it, drop the outcome.
                let context = RequestContext(id: nil, method: notification.method, cancellation: nil, connection: self)
                launch(role: .waitsForInitialize) {
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
        guard let idValue = params?["id"], let id = RequestID(json: idValue) else {
            logger.debug("Ignored a $/cancelRequest without a usable 'id'")
            return
        }
        // Unknown, or already answered: nothing to do.
        guard let entry = tasks.withLock({ $0.entries[.request(id)] }) else { return }
        let outcome = entry.flag.cancel()
        guard outcome != .committed else {
            // Stopping now could lose what only the answer carries (a generated secret).
            logger.debug("Ignored a $/cancelRequest: the request has passed the point where it can be cancelled")
            return
        }
        tasks.withLock { _ = $0.entries.removeValue(forKey: .request(id)) }
        entry.task.cancel()
        if outcome == .answerNow, let destination = entry.destination {
            deliver(.failure(id: id, error: .requestCancelled), to: destination)
        }
    }

    // MARK: - Tasks

    /// Starts tracked work. Called only from the reader thread.
    private func launch(
        role: TaskRole,
        key: TaskKey? = nil,
        flag: CancellationFlag = CancellationFlag(),
        destination: ResponseDestination? = nil,
        _ work: @escaping @Sendable () async -> Void
    ) {
        let gate = role == .waitsForInitialize ? lifecycleGate() : nil
        if role == .initialize { initializeFinished.store(false, ordering: .relaxed) }
        pending.add(1, ordering: .sequentiallyConsistent)
        let body: @Sendable () async -> Void = { [self, gate] in
            if let gate { await gate.value }
            await work()
            flag.markFinished()
            if role == .initialize { initializeFinished.store(true, ordering: .releasing) }
            taskFinished()
        }
        // An immediate task runs on this (reader) thread until its first suspension, so a
        // handler that answers from a cache finishes inline, with no thread wake-up.
        // Nothing here holds a lock the handler could need: only `input`, which handlers
        // never touch.
        let task: Task<Void, Never>
        if #available(macOS 26.0, *) {
            task = Task.immediate(operation: body)
        } else {
            task = Task(operation: body)
        }
        if role == .initialize { lifecycle.withLock { $0.initializeGate = task } }
        tasks.withLock { table in
            table.insert(TrackedTask(flag: flag, task: task, destination: destination), for: key ?? .work(table.makeSerial()))
        }
    }

    /// Lock-free unless someone waits in `finishInput`.
    private func taskFinished() {
        let remaining = pending.subtract(1, ordering: .sequentiallyConsistent).newValue
        guard remaining == 0, idleWaitersPresent.load(ordering: .sequentiallyConsistent) else { return }
        let waiters = tasks.withLock { table -> [CheckedContinuation<Void, Never>] in
            guard pending.load(ordering: .sequentiallyConsistent) == 0 else { return [] }
            defer { table.idleWaiters = [:] }
            return Array(table.idleWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The tasks still running; `shutdown` waits for these.
    private func unfinishedTasks() -> [Task<Void, Never>] {
        tasks.withLock { table in table.entries.values.filter { !$0.flag.isFinished }.map(\.task) }
    }

    /// True when all work finished within `timeout`.
    private func waitForIdle(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { [self] in
                await untilIdle()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    private func untilIdle() async {
        let waiterID = tasks.withLock { $0.makeSerial() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = tasks.withLock { table -> Bool in
                    // Announce the waiter before looking at the count, so a task finishing
                    // concurrently either is seen here or sees us (see `taskFinished`).
                    idleWaitersPresent.store(true, ordering: .sequentiallyConsistent)
                    if pending.load(ordering: .sequentiallyConsistent) == 0 || Task.isCancelled { return true }
                    table.idleWaiters[waiterID] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            tasks.withLock { $0.idleWaiters.removeValue(forKey: waiterID) }?.resume()
        }
    }

    private func cancelEverything() {
        let entries = tasks.withLock { table in
            defer { table.entries = [:] }
            return table.entries.filter { !$0.value.flag.isFinished }
        }
        var answered = 0
        for (key, entry) in entries {
            entry.task.cancel()
            let committed = entry.flag.isCommitted
            if case .request(let id) = key, let destination = entry.destination, entry.flag.forceCancel() {
                answered += 1
                let message =
                    committed
                    ? "Request cancelled: the input closed before it finished; it may still take effect upstream"
                    : "Request cancelled: the input closed before it finished"
                deliver(.failure(id: id, error: RPCError(code: RPCError.Code.requestCancelled, message: message)), to: destination)
            }
        }
        if !entries.isEmpty {
            logger.warning("Cancelled \(entries.count) unfinished task(s), \(answered) request(s), after the input closed")
        }
    }

    // MARK: - Output

    /// A response to write, before it is serialised.
    private enum Answer {
        case success(id: RequestID, result: RPCResult)
        case failure(id: RequestID, error: RPCError)
    }

    private func deliver(_ answer: Answer, to destination: ResponseDestination) {
        let envelope: ResponseEnvelope
        switch answer {
        case .success(let id, let result):
            do {
                envelope = try ResponseEnvelope.success(id: id, result: result)
            } catch {
                logger.error("A result could not be encoded as JSON: \(error)")
                envelope = .failure(id: id, error: .internalError("the result could not be encoded as JSON"))
            }
        case .failure(let id, let error):
            envelope = .failure(id: id, error: error)
        }
        switch destination {
        case .direct: sink.write(envelope.frame(replyFraming))
        case .batch(let collector, let index): collector.fill(index, with: envelope.body)
        }
    }
}

private let emptyObject = RPCResult.serialized(Array("{}".utf8))

/// `Framing?` packed into a byte for an atomic.
private enum FramingCode {
    static func code(_ framing: Framing) -> UInt8 {
        switch framing {
        case .auto: return 0
        case .lsp: return 1
        case .ndjson: return 2
        }
    }

    static func framing(_ code: UInt8) -> Framing? {
        switch code {
        case 1: return .lsp
        case 2: return .ndjson
        default: return nil
        }
    }
}

/// One decoded entry of the input, sorted by how the connection treats it.
private enum Incoming {
    case invalid(MessageDecodingError)
    case request(RPCRequest)
    case notification(RPCNotification)
    /// A response, or something shaped like one: never answered, to avoid reply loops.
    case response

    init(_ json: JSON) {
        do {
            switch try RPCMessage(decoding: json) {
            case .request(let request): self = .request(request)
            case .notification(let notification): self = .notification(notification)
            case .response: self = .response
            }
        } catch {
            if json["method"] == nil, json["result"] != nil || json["error"] != nil {
                self = .response
            } else {
                self = .invalid(error)
            }
        }
    }

    var isAnswered: Bool {
        switch self {
        case .invalid, .request: return true
        case .notification, .response: return false
        }
    }
}
