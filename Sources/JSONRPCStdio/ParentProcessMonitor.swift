#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Watches the process that spawned us, so the server never outlives its editor.
///
/// LSP clients send their `processId` in `initialize`. We check it every half second:
/// when it is gone (or we were reparented away from it), `onExit` runs once.
final class ParentProcessMonitor: Sendable {
    private let processID: Int32
    private let pollInterval: Duration

    init(processID: Int32, pollInterval: Duration = .milliseconds(500)) {
        self.processID = processID
        self.pollInterval = pollInterval
    }

    /// Polls until the watched process is gone, then calls `onExit`. Cancel the task to stop watching.
    func watch(onExit: @escaping @Sendable () -> Void) -> Task<Void, Never> {
        let processID = processID
        let pollInterval = pollInterval
        let wasParent = getppid() == processID
        return Task.detached {
            while !Task.isCancelled {
                if !Self.isAlive(processID) || (wasParent && getppid() != processID) {
                    onExit()
                    return
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// True while `processID` exists; EPERM means it exists but belongs to someone else.
    static func isAlive(_ processID: Int32) -> Bool {
        if kill(processID, 0) == 0 { return true }
        return errno == EPERM
    }
}
