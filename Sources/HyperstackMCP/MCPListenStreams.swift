import JSONRPC
import JanssonJSON
import Locking
import Synchronization

/// The open `subscriptions/listen` streams of one stateless connection. Each is a request left
/// unanswered while the server sends the changes it asked for, tagged with its id; the client
/// ends it with `notifications/cancelled` (no answer follows), the server by answering it,
/// which it does when the input ends.
package final class MCPListenStreams: Sendable {
    /// What one stream asked for and was granted.
    package struct Filter: Equatable, Sendable {
        package var resourcesListChanged: Bool
        package var resourceSubscriptions: Set<String>

        package init(resourcesListChanged: Bool, resourceSubscriptions: Set<String>) {
            self.resourcesListChanged = resourcesListChanged
            self.resourceSubscriptions = resourceSubscriptions
        }
    }

    /// Why a stream ended.
    package enum End: Sendable, Equatable {
        case cancelled
        case inputEnded
    }

    private struct Stream {
        var filter: Filter
        var waiter: CheckedContinuation<End, Never>?
        var end: End?
    }

    private struct State {
        var streams: [RequestID: Stream] = [:]
        var inputEnded = false
    }

    /// Streams one connection may hold open at once; each is also a request in flight.
    package static let limit = 16

    private let state = Lock(State())

    package init() {}

    package var isEmpty: Bool { state.withLock { $0.streams.isEmpty } }

    /// Opens the stream `id` and runs `acknowledge` while no change can be announced to it, so
    /// the acknowledgement is its first frame. Then `waitForEnd(id)`.
    package func open(id: RequestID, filter: Filter, acknowledge: () -> Void) throws(RPCError) {
        try state.withLock { (state: inout State) throws(RPCError) in
            guard !state.inputEnded else { throw RPCError.invalidRequest("the input has ended; no stream can open now") }
            guard state.streams[id] == nil else {
                throw RPCError.invalidRequest("a subscriptions/listen stream with the id \(id) is already open; give each its own id")
            }
            guard state.streams.count < Self.limit else {
                throw RPCError(
                    code: RPCError.Code.internalError,
                    message: "Subscription limit reached: \(Self.limit) subscriptions/listen streams are open on this connection; cancel one first")
            }
            state.streams[id] = Stream(filter: filter)
            acknowledge()
        }
    }

    /// Waits until the stream `id` ends, by the task's cancellation or the input's end, and
    /// closes it.
    package func waitForEnd(_ id: RequestID) async -> End {
        let end = await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<End, Never>) in
                let endedAlready = state.withLock { state -> End? in
                    guard state.streams[id] != nil else { return End.cancelled }
                    if let end = state.streams[id]?.end { return end }
                    state.streams[id]?.waiter = waiter
                    return nil
                }
                if let endedAlready { waiter.resume(returning: endedAlready) }
            }
        } onCancel: {
            finish(id, because: .cancelled)
        }
        state.withLock { _ = $0.streams.removeValue(forKey: id) }
        return end
    }

    /// Calls `body` for every open stream, while none can open or close, so a change reaches
    /// each stream after its acknowledgement and in the order the changes happened.
    package func forEach(_ body: (RequestID, Filter) -> Void) {
        state.withLock { state in
            for (id, stream) in state.streams where stream.end == nil { body(id, stream.filter) }
        }
    }

    /// The input ended: every stream ends with its graceful answer.
    package func endAll() {
        let waiters = state.withLock { state -> [CheckedContinuation<End, Never>] in
            state.inputEnded = true
            var waiters: [CheckedContinuation<End, Never>] = []
            for id in Array(state.streams.keys) where state.streams[id]?.end == nil {
                state.streams[id]?.end = .inputEnded
                if let waiter = state.streams[id]?.waiter.take() { waiters.append(waiter) }
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: .inputEnded) }
    }

    private func finish(_ id: RequestID, because end: End) {
        let waiter = state.withLock { state -> CheckedContinuation<End, Never>? in
            guard state.streams[id] != nil, state.streams[id]?.end == nil else { return nil }
            state.streams[id]?.end = end
            return state.streams[id]?.waiter.take()
        }
        waiter?.resume(returning: end)
    }
}
