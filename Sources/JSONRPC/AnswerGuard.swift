import Synchronization

/// The answer-exactly-once guard of one started task. Cancellation and completion race to
/// answer; whoever sets the `answered` bit first writes the one response. `finished`
/// tells the request tracker the entry can be swept. `committed` marks work that must not
/// be abandoned half-way (a generate sent upstream): a client's cancellation then changes
/// nothing.
final class AnswerGuard: Sendable {
    private static let cancelledBit: UInt8 = 1
    private static let answeredBit: UInt8 = 2
    private static let finishedBit: UInt8 = 4
    private static let committedBit: UInt8 = 8
    private let bits = Atomic<UInt8>(0)

    var isCancelled: Bool { bits.load(ordering: .acquiring) & Self.cancelledBit != 0 }
    var isFinished: Bool { bits.load(ordering: .acquiring) & Self.finishedBit != 0 }
    var isCommitted: Bool { bits.load(ordering: .acquiring) & Self.committedBit != 0 }

    /// What a client's cancellation did.
    enum CancelOutcome: Equatable {
        /// The request is now cancelled and the caller must send the session's cancelled answer.
        case answerNow
        /// The request was already answered; only the task is left to stop.
        case alreadyAnswered
        /// The request committed to finishing: it stays as it is and will answer itself.
        case committed
    }

    /// A client's cancellation: marks the request cancelled unless it has committed.
    func cancel() -> CancelOutcome {
        var current = bits.load(ordering: .relaxed)
        while true {
            if current & Self.committedBit != 0 { return .committed }
            let (exchanged, original) = bits.compareExchange(
                expected: current, desired: current | Self.cancelledBit | Self.answeredBit,
                ordering: .acquiringAndReleasing)
            if exchanged { return original & Self.answeredBit == 0 ? .answerNow : .alreadyAnswered }
            current = original
        }
    }

    /// Cancels even committed work (the process is about to exit); true when the caller
    /// must now send the cancelled answer.
    func forceCancel() -> Bool {
        let old = bits.bitwiseOr(Self.cancelledBit | Self.answeredBit, ordering: .acquiringAndReleasing).oldValue
        return old & Self.answeredBit == 0
    }

    /// Commits to finishing; false when the request was cancelled first (and so answered).
    func commit() -> Bool {
        var current = bits.load(ordering: .relaxed)
        while true {
            if current & Self.cancelledBit != 0 { return false }
            let (exchanged, original) = bits.compareExchange(
                expected: current, desired: current | Self.committedBit, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }

    /// Claims the right to answer; false when the request was already answered.
    func claimAnswer() -> Bool {
        let old = bits.bitwiseOr(Self.answeredBit, ordering: .acquiringAndReleasing).oldValue
        return old & Self.answeredBit == 0
    }

    func markFinished() {
        bits.bitwiseOr(Self.finishedBit, ordering: .releasing)
    }
}
