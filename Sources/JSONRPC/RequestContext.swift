import JanssonJSON
import Synchronization

/// What a handler knows about the call it is serving, and its way to talk back early.
public struct RequestContext: Sendable {
    /// The request id; `nil` when the call is a notification (no response will be sent).
    public let id: RequestID?
    public let method: String
    private let emit: @Sendable (String, JSON) -> Void
    private let cancellation: CancellationFlag?

    /// A context detached from any connection, for calling a handler directly (e.g. in
    /// tests); `notify` hands notifications to `notify`.
    public init(id: RequestID?, method: String, notify: @escaping @Sendable (String, JSON) -> Void = { _, _ in }) {
        self.id = id
        self.method = method
        self.emit = notify
        self.cancellation = nil
    }

    init(id: RequestID?, method: String, cancellation: CancellationFlag?, notify: @escaping @Sendable (String, JSON) -> Void) {
        self.id = id
        self.method = method
        self.emit = notify
        self.cancellation = cancellation
    }

    /// Enqueues a notification frame now, so it is written before this request's response.
    public func notify(_ method: String, params: JSON) {
        emit(method, params)
    }

    /// True once the client cancelled this request (or the input closed while it ran).
    /// The client has then already been answered with -32800; any result is discarded.
    public var isCancelled: Bool {
        cancellation?.isCancelled ?? Task.isCancelled
    }
}

/// The once-only answer guard of one in-flight request. Cancellation and completion
/// race to answer; whoever sets the `answered` bit first writes the one response.
final class CancellationFlag: Sendable {
    private static let cancelledBit: UInt8 = 1
    private static let answeredBit: UInt8 = 2
    private let bits = Atomic<UInt8>(0)

    var isCancelled: Bool { bits.load(ordering: .acquiring) & Self.cancelledBit != 0 }

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
}
