/// The tasks a connection has started. Task threads never touch this table (they only
/// flip atomics), so the hot path takes no contended lock: finished entries are swept
/// lazily by the reader when the table has doubled since the last sweep.
struct TaskTable {
    var entries: [TaskKey: TrackedTask] = [:]
    var sweepAt = 64
    var nextSerial: UInt64 = 0
    /// `finishInput` callers waiting for the pending count to reach zero.
    var idleWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]

    mutating func insert(_ task: TrackedTask, for key: TaskKey) {
        if entries.count >= sweepAt {
            entries = entries.filter { !$0.value.answerGuard.isFinished }
            sweepAt = max(64, entries.count * 2)
        }
        entries[key] = task
    }

    mutating func makeSerial() -> UInt64 {
        nextSerial &+= 1
        return nextSerial
    }
}

/// Requests are found by id (for cancellation); other work by a serial number.
enum TaskKey: Hashable {
    case request(RequestID)
    case work(UInt64)
}

/// A started task and what is needed to cancel it and answer in its place.
struct TrackedTask {
    let answerGuard: AnswerGuard
    let task: Task<Void, Never>
    /// Where the answer goes; `nil` for notification work, which is never answered.
    let destination: ResponseDestination?
}
