import Locking
import Synchronization

/// Why a stdio server is stopping.
package enum TerminationReason: Sendable, Equatable {
    /// The `exit` notification, with the status LSP prescribes.
    case exitNotification(Int32)
    /// stdin reached its end.
    case endOfInput
    /// The reader of stdout went away (EPIPE).
    case outputClosed
    /// The process named in `initialize.processId` is gone.
    case parentExited
    /// SIGTERM, SIGINT or SIGHUP: finish what is in flight, then exit 0.
    case signal(Int32)
}

/// Collects the first reason to stop from whichever thread notices it: the reader, the
/// writer, a signal handler, the parent watch or the session's `exit` notification.
package final class Termination: Sendable {
    private let stream: AsyncStream<TerminationReason>
    private let continuation: AsyncStream<TerminationReason>.Continuation
    private let parentWatch = Lock<Task<Void, Never>?>(nil)

    package init() {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(8))
    }

    package func request(_ reason: TerminationReason) {
        continuation.yield(reason)
    }

    /// Requests `.parentExited` once `processID` is gone (see `ParentProcessMonitor`), so the
    /// server never outlives the editor that started it. A later call replaces the watch.
    package func watchParent(processID: Int32) {
        let continuation = continuation
        let watch = ParentProcessMonitor(processID: processID).watch { continuation.yield(.parentExited) }
        parentWatch.withLock { current in
            current?.cancel()
            current = watch
        }
    }

    /// The first reason requested.
    package func firstReason() async -> TerminationReason {
        for await reason in stream { return reason }
        return .endOfInput
    }
}
