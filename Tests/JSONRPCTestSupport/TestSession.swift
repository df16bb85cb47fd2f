import JSONRPC
import JanssonJSON

/// A session for exercising the connection itself, shaped like LSP so the mechanics are
/// easy to reach: `initialize` runs `onInitialize` and answers `result`, `shutdown` runs
/// `onShutdown`, `exit` calls `onExit(0)`, `$/cancelRequest {id}` (or the given notification) answers -32800, and
/// `$/ping` is built in. It keeps no state: the real rules are each server's own session.
public struct TestSession: RPCSession {
    private let result: JSON
    private let onInitialize: @Sendable (JSON?) async throws -> Void
    private let onShutdown: @Sendable () async -> Void
    private let onExit: @Sendable (Int32) -> Void
    private let answersCancellation: Bool
    public let cancelNotification: CancelNotification

    /// With `answersCancellation` false, cancelled requests get no answer (as in MCP).
    public init(
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

    public func makeLifecycle() -> any SessionLifecycle { TestLifecycle() }

    public var builtInMethods: [String: RPCBuiltInHandler] { ["$/ping": { _ in .json([:]) }] }

    public func cancelledAnswer(_ cause: CancellationCause) -> RPCError? {
        guard answersCancellation else { return nil }
        switch cause {
        case .client: return .requestCancelled
        case .inputClosed(let committed):
            return RPCError(
                code: RPCError.Code.requestCancelled,
                message: committed ? "Request cancelled: the input closed; it may still take effect upstream" : "Request cancelled: the input closed")
        }
    }

    public func initialize(_ params: JSON?) async throws -> RPCResult {
        try await onInitialize(params)
        return .json(result)
    }

    public func shutdown() async { await onShutdown() }

    public func exit(code: Int32) { onExit(code) }
}

/// `initialize` and `shutdown` are what their names say, every time; `exit` exits with 0.
public struct TestLifecycle: SessionLifecycle {
    public init() {}

    public func admit(request method: String) -> RequestAdmission {
        switch method {
        case "initialize": return .initialize
        case "shutdown": return .shutdown
        default: return .proceed
        }
    }

    public func admit(notification method: String) -> NotificationAdmission {
        method == "exit" ? .exit(code: 0) : .proceed
    }
}
