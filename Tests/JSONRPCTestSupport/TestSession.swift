import JSONRPC
import JanssonJSON

/// A session for exercising the connection itself, shaped like LSP so the mechanics are
/// easy to reach: `initialize` runs `onInitialize` and answers `result`, `shutdown` runs
/// `onShutdown`, `exit` calls `onExit(0)`, `$/cancelRequest {id}` (or the given notification) answers -32800, and
/// `$/ping` is built in. It keeps no state: the real rules are each server's own session.
package struct TestSession: RPCSession {
    private let result: JSON
    private let onInitialize: @Sendable (JSON?) async throws -> Void
    private let onShutdown: @Sendable () async -> Void
    private let onExit: @Sendable (Int32) -> Void
    private let answersCancellation: Bool
    package let cancelNotification: CancelNotification

    /// With `answersCancellation` false, cancelled requests get no answer (as in MCP).
    package init(
        result: JSON = ["serverInfo": ["name": "test-server", "version": "1.2.3"]],
        answersCancellation: Bool = true,
        cancelNotification: CancelNotification = CancelNotification(method: "$/cancelRequest", idMember: "id"),
        onInitialize: @escaping @Sendable (JSON?) async throws -> Void = { _ in },
        onShutdown: @escaping @Sendable () async -> Void = {},
        onExit: @escaping @Sendable (Int32) -> Void = { _ in }
    ) {
        self.result = result
        self.answersCancellation = answersCancellation
        self.cancelNotification = cancelNotification
        self.onInitialize = onInitialize
        self.onShutdown = onShutdown
        self.onExit = onExit
    }

    package func makeLifecycle() -> any SessionLifecycle { TestLifecycle() }

    package var builtInMethods: [String: RPCBuiltInHandler] { ["$/ping": { _ in .json([:]) }] }

    package func cancelledAnswer(_ cause: CancellationCause) -> RPCError? {
        guard answersCancellation else { return nil }
        switch cause {
        case .client: return .requestCancelled
        case .inputClosed(let committed):
            return RPCError(
                code: RPCError.Code.requestCancelled,
                message: committed ? "Request cancelled: the input closed; it may still take effect upstream" : "Request cancelled: the input closed")
        }
    }

    package func initialize(_ params: JSON?) async throws -> RPCResult {
        try await onInitialize(params)
        return .json(result)
    }

    package func shutdown() async { await onShutdown() }

    package func exit(code: Int32) { onExit(code) }
}

/// `initialize` and `shutdown` are what their names say, every time; `exit` exits with 0.
package struct TestLifecycle: SessionLifecycle {
    package init() {}

    package func admit(request method: String, params: JSON?) -> RequestAdmission {
        switch method {
        case "initialize": return .initialize
        case "shutdown": return .shutdown
        default: return .proceed
        }
    }

    package func admit(notification method: String) -> NotificationAdmission {
        method == "exit" ? .exit(code: 0) : .proceed
    }
}
