import Synchronization

/// The once-only answer guard of one started task. Cancellation and completion race to
/// answer; whoever sets the `answered` bit first writes the one response. `finished`
/// tells the task table the entry can be swept.
final class CancellationFlag: Sendable {
    private static let cancelledBit: UInt8 = 1
    private static let answeredBit: UInt8 = 2
    private static let finishedBit: UInt8 = 4
    private let bits = Atomic<UInt8>(0)

    var isCancelled: Bool { bits.load(ordering: .acquiring) & Self.cancelledBit != 0 }
    var isFinished: Bool { bits.load(ordering: .acquiring) & Self.finishedBit != 0 }

    /// Marks the request cancelled; true when the caller must now send the -32800 response.
    func cancel() -> Bool {
        let old = bits.bitwiseOr(Self.cancelledBit | Self.answeredBit, ordering: .acquiringAndReleasing).oldValue
        return old & Self.answeredBit == 0
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
