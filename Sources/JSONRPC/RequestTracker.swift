import Locking
import Logging
import Synchronization

/// The work a connection has started: the task table, the count of tasks still running,
/// the in-flight limit, waiting for idle and cancelling everything. The reader thread
/// starts and cancels; task threads only decrement atomics, so they take no lock unless
/// someone waits for idle.
final class RequestTracker: Sendable {
    private let tasks = Lock(TaskTable())
    /// Started tasks not yet finished; counted with atomics so task threads take no lock.
    private let pending = Atomic<Int>(0)
    private let idleWaitersPresent = Atomic<Bool>(false)
    /// Ready answers waiting in unfinished batches; they count against `maxInFlight` too.
    let heldAnswers = HeldAnswers()
    private let maxInFlight: Int
    /// Set from the first refusal at the cap until the work in flight falls to half of
    /// it, so a client hammering a full server makes one warning, not one per request.
    private let saturated = Atomic<Bool>(false)
    private let refusedWhileSaturated = Atomic<Int>(0)
    private let logger: Logger

    init(maxInFlight: Int, logger: Logger) {
        self.maxInFlight = maxInFlight
        self.logger = logger
    }

    /// Whether one more task fits under `maxInFlight`: two relaxed loads on the hot path.
    /// Logs when the cap is first reached, and when the load has fallen to half of it.
    func hasRoom() -> Bool {
        let inFlight = pending.load(ordering: .relaxed) + heldAnswers.value
        if inFlight < maxInFlight {
            if saturated.load(ordering: .relaxed), inFlight <= maxInFlight / 2,
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
                "\(maxInFlight) requests are in flight (--max-in-flight): new ones are answered with -32802 (busy, retry later) until some finish")
        }
        return false
    }

    /// Starts tracked work after `gate` (a running `initialize`), if any. Called only from
    /// the reader thread. The task runs on this thread until its first suspension, so a
    /// handler that answers from a cache finishes inline, with no thread wake-up.
    @discardableResult
    func start(
        key: TaskKey? = nil,
        answerGuard: AnswerGuard = AnswerGuard(),
        destination: ResponseDestination? = nil,
        after gate: Task<Void, Never>? = nil,
        _ work: @escaping @Sendable () async -> Void
    ) -> Task<Void, Never> {
        pending.add(1, ordering: .sequentiallyConsistent)
        let body: @Sendable () async -> Void = { [self] in
            if let gate { await gate.value }
            await work()
            answerGuard.markFinished()
            taskFinished()
        }
        let task: Task<Void, Never>
        if #available(macOS 26.0, *) {
            task = Task.immediate(operation: body)
        } else {
            task = Task(operation: body)
        }
        tasks.withLock { table in
            table.insert(
                TrackedTask(answerGuard: answerGuard, task: task, destination: destination),
                for: key ?? .work(table.makeSerial()))
        }
        return task
    }

    /// What a client's cancellation of `id` found.
    enum Cancellation {
        /// Unknown, or already answered and swept: nothing to do.
        case unknown
        /// The request committed to finishing; it was left alone.
        case committed
        /// The task was cancelled; `answerTo` is where the cancelled answer goes, `nil`
        /// when the request was already answered.
        case cancelled(answerTo: ResponseDestination?)
    }

    func cancel(_ id: RequestID) -> Cancellation {
        guard let entry = tasks.withLock({ $0.entries[.request(id)] }) else { return .unknown }
        let outcome = entry.answerGuard.cancel()
        guard outcome != .committed else { return .committed }
        tasks.withLock { _ = $0.entries.removeValue(forKey: .request(id)) }
        entry.task.cancel()
        return .cancelled(answerTo: outcome == .answerNow ? entry.destination : nil)
    }

    /// The tasks still running; `shutdown` waits for these.
    func unfinishedTasks() -> [Task<Void, Never>] {
        tasks.withLock { table in table.entries.values.filter { !$0.answerGuard.isFinished }.map(\.task) }
    }

    /// A request abandoned by `cancelAll` that the caller must now answer.
    struct Abandoned {
        let id: RequestID
        let destination: ResponseDestination
        let wasCommitted: Bool
    }

    /// Cancels every unfinished task, committed ones too (the process is about to exit).
    /// Returns how many tasks were cancelled and the requests that still need an answer.
    func cancelAll() -> (tasks: Int, unanswered: [Abandoned]) {
        let entries = tasks.withLock { table in
            defer { table.entries = [:] }
            return table.entries.filter { !$0.value.answerGuard.isFinished }
        }
        var unanswered: [Abandoned] = []
        for (key, entry) in entries {
            entry.task.cancel()
            let committed = entry.answerGuard.isCommitted
            if case .request(let id) = key, let destination = entry.destination, entry.answerGuard.forceCancel() {
                unanswered.append(Abandoned(id: id, destination: destination, wasCommitted: committed))
            }
        }
        return (entries.count, unanswered)
    }

    /// Lock-free unless someone waits in `waitForIdle`.
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

    /// True when all work finished within `timeout`.
    func waitForIdle(timeout: Duration) async -> Bool {
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
}
