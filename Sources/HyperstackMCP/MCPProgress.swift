import InfrahubClient
import JSONRPC
import JanssonJSON
import Locking
import Synchronization

/// `notifications/progress` for one request that carried `params._meta.progressToken` (a string
/// or an integer): each wait the call makes on Hyperstack's backoff (a 429's `Retry-After`, a
/// retry after a 5xx) becomes one notification, its `progress` counting up from 1, with the
/// wait's message (from 2025-03-26 on, which added the member). Nothing is sent once the call
/// has its result, so every notification precedes the response.
final class MCPProgress: Sendable {
    private let token: JSON
    private let context: RequestContext
    private let withMessage: Bool
    /// How many notifications went out, and whether the call has finished.
    private let state = Lock<(sent: Int64, finished: Bool)>((0, false))

    private init(token: JSON, context: RequestContext, version: String) {
        self.token = token
        self.context = context
        withMessage = version >= "2025-03-26"
    }

    /// Runs `body`, reporting its waits to the client when `params` asked for progress.
    static func reporting<Value: Sendable>(
        params: JSON?, context: RequestContext, version: String, _ body: () async throws -> Value
    ) async throws -> Value {
        guard let token = progressToken(params) else { return try await body() }
        let progress = MCPProgress(token: token, context: context, version: version)
        defer { progress.finish() }
        return try await UpstreamWaitReporting.$observer.withValue(UpstreamWaitObserver { progress.report($0) }) {
            try await body()
        }
    }

    /// The request's progress token; `nil` when absent or neither a string nor an integer.
    static func progressToken(_ params: JSON?) -> JSON? {
        switch params?["_meta"]?["progressToken"] {
        case let token? where token.stringValue != nil || token.intValue != nil: token
        default: nil
        }
    }

    func report(_ wait: UpstreamWait) {
        // Counted and sent under the lock, so notifications leave in the order of their numbers.
        state.withLock { state in
            guard !state.finished else { return }
            state.sent += 1
            var params: JSONObject = ["progressToken": token, "progress": .int(state.sent)]
            if withMessage { params["message"] = .string(wait.message) }
            context.notify("notifications/progress", params: .object(params))
        }
    }

    private func finish() {
        state.withLock { $0.finished = true }
    }
}
