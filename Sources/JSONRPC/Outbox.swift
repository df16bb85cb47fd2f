import JanssonJSON
import Logging

/// The one way out: every answer, notification and request of ours is serialised here, framed in the reply
/// framing and handed to the sink. Shared by the reader thread and every task, and holds no
/// lock: framing is an atomic, the sink does its own ordering.
final class Outbox: Sendable {
    let framing: ReplyFraming
    private let sink: any FrameSink
    private let logger: Logger

    init(sink: any FrameSink, framing: ReplyFraming, logger: Logger) {
        self.sink = sink
        self.framing = framing
        self.logger = logger
    }

    func answer(_ id: RequestID, result: RPCResult, to destination: ResponseDestination) {
        let message: OutboundMessage
        do {
            message = try OutboundMessage.success(id: id, result: result)
        } catch {
            logger.error("A result could not be encoded as JSON: \(error)")
            message = .failure(id: id, error: .internalError("the result could not be encoded as JSON"))
        }
        send(message, to: destination)
    }

    func answer(_ id: RequestID, error: RPCError, to destination: ResponseDestination) {
        send(.failure(id: id, error: error), to: destination)
    }

    /// Answers with what a handler produced. An error that is not an `RPCError` becomes a
    /// generic -32603, so internal details never reach the client.
    func answer(
        _ id: RequestID, outcome: Result<RPCResult, any Error>, method: String, to destination: ResponseDestination
    ) {
        switch outcome {
        case .success(let result):
            answer(id, result: result, to: destination)
        case .failure(let error as RPCError):
            answer(id, error: error, to: destination)
        case .failure(is CancellationError):
            answer(id, error: .requestCancelled, to: destination)
        case .failure(let error):
            // Only the type is logged: an error's description might quote a secret.
            logger.error(
                "The handler for '\(method)' failed with an unexpected error",
                metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            answer(id, error: .internalError("the server failed while handling '\(method)'; see its log"), to: destination)
        }
    }

    /// Answers a cancelled request with the session's `error`. With none (MCP answers
    /// cancellation with nothing) a batch entry is withdrawn, so the batch still completes.
    func answerCancelled(_ id: RequestID, with error: RPCError?, to destination: ResponseDestination) {
        if let error {
            answer(id, error: error, to: destination)
        } else if case .batch(let collector, let index) = destination {
            collector.fill(index, with: nil)
        }
    }

    /// Sends a server-initiated notification.
    func notify(_ method: String, params: JSON) {
        do {
            sink.write(try OutboundMessage.notification(method: method, params: params).frame(framing.current))
        } catch {
            logger.error("Dropped the '\(method)' notification: its params cannot be encoded as JSON")
        }
    }

    /// Sends a server-initiated request; false when its params cannot be encoded (nothing is sent).
    func request(_ id: RequestID, method: String, params: JSON) -> Bool {
        do {
            sink.write(try OutboundMessage.request(id: id, method: method, params: params).frame(framing.current))
            return true
        } catch {
            logger.error("Did not send the '\(method)' request: its params cannot be encoded as JSON")
            return false
        }
    }

    /// A collector for one batch of `slots` entries of which `expected` will be answered.
    /// It holds the sink and the settled framing, never the connection: the request tracker
    /// keeps it (as a destination) until swept, so holding the connection would be a cycle.
    func batch(slots: Int, expected: Int, backlog: HeldAnswers) -> BatchCollector {
        let sink = self.sink
        let framing = self.framing.current
        return BatchCollector(slots: slots, expected: expected, backlog: backlog) { bodies in
            guard !bodies.isEmpty else { return }
            sink.write(OutboundMessage.batchFrame(bodies, framing: framing))
        }
    }

    private func send(_ message: OutboundMessage, to destination: ResponseDestination) {
        switch destination {
        case .direct: sink.write(message.frame(framing.current))
        case .batch(let collector, let index): collector.fill(index, with: message.body)
        }
    }
}
