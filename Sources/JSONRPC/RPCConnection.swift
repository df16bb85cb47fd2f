import JanssonJSON
import Locking
import Logging
import Synchronization

/// One JSON-RPC 2.0 peer connection, driven purely by bytes: the transport calls `receive`
/// with whatever it read and writes out the frames given to the sink. It is the glue
/// between the parts that do the work:
/// - the `InboundDecoder` turns bytes into messages (and settles the framing);
/// - the `RequestDispatcher` applies the session's lifecycle and starts the work;
/// - the `RequestTracker` keeps the running tasks, the in-flight limit and idle waiting;
/// - the `Outbox` serialises, frames and writes every answer and notification;
/// - `OutgoingRequests` sends requests of ours to the client and routes its responses back.
///
/// A method with a synchronous fast path (a cache lookup) is answered inline on the
/// reader thread, with no task at all. Other requests run concurrently, one task each, so
/// replies may come out of order. Each task starts immediately on the reader thread and
/// leaves it at its first suspension. The session's cancel notification is handled the
/// moment it is read, ahead of queued work. Work in flight is capped
/// (`ConnectionConfiguration.maxInFlight`): a request that would start a task at the cap is
/// answered at once with -32802, so memory stays bounded whatever the client sends.
package final class RPCConnection: Sendable {
    /// The reader thread's state. Only `receive` (one thread) and `finishInput` (after the
    /// input has closed) touch it, so the lock is never contended; it exists because Swift 6
    /// cannot express "owned by whichever thread calls `receive`" for a `Sendable` class.
    private let reader: Lock<Reader>
    private let inputClosed = Atomic<Bool>(false)
    private let session: any RPCSession
    private let tracker: RequestTracker
    private let outbox: Outbox
    private let outgoing: OutgoingRequests
    private let logger: Logger

    private struct Reader {
        var decoder: InboundDecoder
        var dispatcher: RequestDispatcher
    }

    package init(
        configuration: ConnectionConfiguration,
        session: any RPCSession,
        methods: MethodTable,
        sink: any FrameSink,
        logger: Logger
    ) {
        let framing = ReplyFraming(configuration.framing)
        let outbox = Outbox(sink: sink, framing: framing, logger: logger)
        let tracker = RequestTracker(maxInFlight: configuration.maxInFlight, logger: logger)
        let outgoing = OutgoingRequests(
            limit: configuration.maxPendingRequestsToClient, cancelNotification: session.cancelNotification,
            outbox: outbox, logger: logger)
        reader = Lock(
            Reader(
                decoder: InboundDecoder(configuration: configuration, replyFraming: framing, logger: logger),
                dispatcher: RequestDispatcher(
                    session: session, methods: methods, maxInFlight: configuration.maxInFlight, tracker: tracker,
                    outbox: outbox, outgoing: outgoing, logger: logger)))
        self.session = session
        self.tracker = tracker
        self.outbox = outbox
        self.outgoing = outgoing
        self.logger = logger
    }

    /// The framing replies use: the configured one, or in `auto` mode the one detected
    /// from the input; `nil` while `auto` has seen no input yet.
    package var framing: Framing? { outbox.framing.decided }

    /// Parses and dispatches everything in `bytes`. Call from one reader thread only. It
    /// runs handlers up to their first suspension, never waits for one to finish, and
    /// must not be re-entered from a handler.
    package func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !inputClosed.load(ordering: .relaxed) else { return }
        reader.withLock { reader in
            reader.decoder.feed(bytes, to: &reader.dispatcher)
        }
    }

    /// Convenience for callers holding an array.
    package func receive(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { receive($0) }
    }

    /// The input reached end of file: fails every request of ours still waiting for the
    /// client, waits up to `timeout` for running work to finish, then cancels whatever is
    /// left (giving each request the session's cancelled answer) and returns.
    package func finishInput(timeout: Duration) async {
        inputClosed.store(true, ordering: .relaxed)
        outgoing.closeInput()
        session.inputEnded()
        if reader.withLock({ $0.decoder.isInsideMessage }) {
            logger.debug("The input ended in the middle of a message; the partial message was dropped")
        }
        guard await tracker.waitForIdle(timeout: timeout) else {
            cancelEverything()
            return
        }
    }

    /// Sends a server-initiated notification, e.g. from background polling.
    package func notify(_ method: String, params: JSON) {
        outbox.notify(method, params: params)
    }

    private func cancelEverything() {
        let (cancelled, unanswered) = tracker.cancelAll()
        for request in unanswered {
            let answer = session.cancelledAnswer(.inputClosed(committed: request.wasCommitted))
            outbox.answerCancelled(request.id, with: answer, to: request.destination)
        }
        if cancelled > 0 {
            logger.warning(
                "Cancelled \(cancelled) unfinished task(s), \(unanswered.count) request(s), after the input closed")
        }
    }
}
