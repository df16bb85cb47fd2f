import JanssonJSON
import Locking
import Logging
import Synchronization

/// Requests this server sends to the client (MCP's `elicitation/create`), and the routing of
/// the client's responses back to the handler that waits for each.
///
/// Ids are strings with a prefix no client uses for its own (`"hyperstack-rpc/1"`, ...), so a
/// response to one of ours can never be mistaken for an echo of the client's ids, and they are
/// never reused within a connection. A handler's wait ends exactly once: with the client's
/// result, its error, the input closing (every pending request fails, and later ones fail at
/// once), its timeout passing, or the handler's task being cancelled (on these last two the
/// client is told with the session's cancel notification). A response with an id we are not waiting for is logged and dropped.
/// At most `limit` requests wait at a time, so a client that never answers cannot grow the table.
final class OutgoingRequests: Sendable {
    static let idPrefix = "hyperstack-rpc/"

    private enum Entry {
        /// The id is handed out, the continuation not yet installed.
        case reserved
        /// Given up (cancelled, timed out) before the continuation was installed: fail it
        /// with this as soon as it is.
        case abandonedEarly(any Error)
        case waiting(CheckedContinuation<JSON, any Error>)
    }

    private struct Table {
        var nextSerial: UInt64 = 1
        var entries: [String: Entry] = [:]
        var inputClosed = false
    }

    private let table = Lock(Table())
    private let limit: Int
    private let cancelNotification: CancelNotification
    private let outbox: Outbox
    private let logger: Logger

    init(limit: Int, cancelNotification: CancelNotification, outbox: Outbox, logger: Logger) {
        self.limit = max(1, limit)
        self.cancelNotification = cancelNotification
        self.outbox = outbox
        self.logger = logger
    }

    /// How many requests wait for a response now.
    var pendingCount: Int { table.withLock { $0.entries.count } }

    /// Sends `method` to the client and waits for its response.
    ///
    /// - Returns: the response's `result`.
    /// - Throws: `OutgoingRequestError` for an error response, a closed input, a full table or
    ///   a `timeout` that passed; `CancellationError` when the calling task is cancelled first.
    func send(_ method: String, params: JSON, timeout: Duration? = nil) async throws -> JSON {
        let key = try reserve()
        let id = RequestID.string(key)
        let timer = timeout.map { timeout in
            Task { [self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                abandon(key, method: method, with: OutgoingRequestError.timedOut(method: method, after: timeout))
            }
        }
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSON, any Error>) in
                let early: (any Error)? = table.withLock { table in
                    if table.inputClosed {
                        table.entries[key] = nil
                        return OutgoingRequestError.inputClosed(method: method)
                    }
                    if case .abandonedEarly(let error)? = table.entries[key] {
                        table.entries[key] = nil
                        return error
                    }
                    table.entries[key] = .waiting(continuation)
                    return nil
                }
                if let early { return continuation.resume(throwing: early) }
                // Written only once the continuation is in place, so even an instant response
                // finds its waiter.
                guard outbox.request(id, method: method, params: params) else {
                    if case .waiting(let waiter)? = table.withLock({ $0.entries.removeValue(forKey: key) }) {
                        waiter.resume(throwing: OutgoingRequestError.unencodable(method: method))
                    }
                    return
                }
            }
        } onCancel: {
            abandon(key, method: method, with: CancellationError())
        }
    }

    /// Hands a response to its waiter; false (and a log line) when nobody waits for its id.
    @discardableResult
    func receive(_ response: RPCResponse) -> Bool {
        let waiter: CheckedContinuation<JSON, any Error>? = table.withLock { table in
            guard case .string(let key) = response.id, case .waiting(let waiter)? = table.entries[key] else {
                return nil
            }
            table.entries[key] = nil
            return waiter
        }
        guard let waiter else {
            logger.debug("Dropped a response with id \(response.id): no request of this server waits for it")
            return false
        }
        switch response.outcome {
        case .success(let result): waiter.resume(returning: result)
        case .failure(let error): waiter.resume(throwing: OutgoingRequestError.rejected(error))
        }
        return true
    }

    /// The client can no longer answer: every pending request fails now, and later ones at once.
    func closeInput() {
        let waiters = table.withLock { table -> [CheckedContinuation<JSON, any Error>] in
            table.inputClosed = true
            var waiters: [CheckedContinuation<JSON, any Error>] = []
            for (key, entry) in table.entries {
                guard case .waiting(let waiter) = entry else { continue }
                waiters.append(waiter)
                table.entries[key] = nil
            }
            return waiters
        }
        if !waiters.isEmpty {
            logger.debug("The input closed while \(waiters.count) request(s) to the client were unanswered")
        }
        for waiter in waiters { waiter.resume(throwing: OutgoingRequestError.inputClosed(method: nil)) }
    }

    private func reserve() throws(OutgoingRequestError) -> String {
        try table.withLock { table throws(OutgoingRequestError) in
            if table.inputClosed { throw .inputClosed(method: nil) }
            guard table.entries.count < limit else { throw .tooManyPending(limit: limit) }
            let key = Self.idPrefix + String(table.nextSerial)
            table.nextSerial += 1
            table.entries[key] = .reserved
            return key
        }
    }

    /// The handler stops waiting (cancelled, or out of time): fail its wait with `error` and
    /// tell the client the request is moot.
    private func abandon(_ key: String, method: String, with error: any Error) {
        let waiter = table.withLock { table -> CheckedContinuation<JSON, any Error>? in
            switch table.entries[key] {
            case .waiting(let waiter)?:
                table.entries[key] = nil
                return waiter
            case .reserved?:
                table.entries[key] = .abandonedEarly(error)
                return nil
            case .abandonedEarly?, nil:
                return nil
            }
        }
        guard let waiter else { return }
        // The client hears first, so it never sees the handler's result while our request still looks open.
        let reason = error is CancellationError ? "the request that needed it was cancelled" : "no answer came in time"
        outbox.notify(
            cancelNotification.method,
            params: [cancelNotification.idMember: .string(key), "reason": .string("'\(method)': \(reason)")])
        waiter.resume(throwing: error)
    }
}

/// Why a request to the client produced no result.
package enum OutgoingRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The client answered with an error.
    case rejected(RPCError)
    /// The input closed before an answer came (`method` when known).
    case inputClosed(method: String?)
    /// Too many requests to the client are unanswered already.
    case tooManyPending(limit: Int)
    /// No answer came within the time the handler allowed.
    case timedOut(method: String, after: Duration)
    /// The params could not be serialised (a NaN, say); nothing was sent.
    case unencodable(method: String)
    /// The context belongs to no connection (a handler called directly, in a test).
    case noConnection

    package var description: String {
        switch self {
        case .rejected(let error): "the client answered with an error: \(error)"
        case .inputClosed(let method?): "the client closed the connection before answering '\(method)'"
        case .inputClosed(nil): "the client closed the connection before answering"
        case .tooManyPending(let limit): "\(limit) requests to the client are still unanswered"
        case .timedOut(let method, let after): "the client did not answer '\(method)' within \(after)"
        case .unencodable(let method): "the params of '\(method)' cannot be encoded as JSON"
        case .noConnection: "there is no client connection to ask"
        }
    }
}
