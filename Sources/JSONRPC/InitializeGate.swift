/// The running `initialize` that ordinary work must wait for. Reader-thread state: it is
/// set when `initialize` starts and dropped the first time it is asked about after that
/// task has finished (seen through the task's answer guard, so no extra atomic).
struct InitializeGate {
    private var running: (task: Task<Void, Never>, answerGuard: AnswerGuard)?

    mutating func close(behind task: Task<Void, Never>, answerGuard: AnswerGuard) {
        running = (task, answerGuard)
    }

    /// The task to wait for, or `nil` once `initialize` has answered (or never ran).
    mutating func pending() -> Task<Void, Never>? {
        guard let current = running else { return nil }
        if current.answerGuard.isFinished {
            running = nil
            return nil
        }
        return current.task
    }
}
