/// Why the server is stopping.
enum TerminationReason: Sendable, Equatable {
    /// The `exit` notification, with the status LSP prescribes.
    case exitNotification(Int32)
    /// stdin reached its end.
    case endOfInput
    /// The reader of stdout went away (EPIPE).
    case outputClosed
    /// The process named in `initialize.processId` is gone.
    case parentExited
    /// SIGTERM or SIGINT.
    case signal(Int32)
}

/// Collects the first reason to stop from whichever thread notices it.
final class Termination: Sendable {
    private let stream: AsyncStream<TerminationReason>
    private let continuation: AsyncStream<TerminationReason>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(8))
    }

    func request(_ reason: TerminationReason) {
        continuation.yield(reason)
    }

    /// The first reason requested.
    func firstReason() async -> TerminationReason {
        for await reason in stream { return reason }
        return .endOfInput
    }
}
