import Locking
import Synchronization

/// The line SIGUSR1 logs: what the server says about itself, and how long it has been up.
///
/// It exists from the first signal handler on, before there is a connection to describe,
/// so until `describe` is set it says "starting".
final class StatusLine: Sendable {
    private let started = ContinuousClock.now
    private let description = Lock<(@Sendable () -> String)?>(nil)

    func describe(_ description: @escaping @Sendable () -> String) {
        self.description.withLock { $0 = description }
    }

    var text: String {
        let current = description.withLock { $0 }?() ?? "starting"
        return "status: \(current), up \((ContinuousClock.now - started).components.seconds) s"
    }
}
