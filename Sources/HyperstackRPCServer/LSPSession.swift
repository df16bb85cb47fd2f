import HyperstackProtocol
import JSONRPC
import JanssonJSON

/// hyperstack-rpc's LSP-style personality: the `initialize` result (`serverInfo`,
/// `capabilities`), the `LSPLifecycle`, `$/cancelRequest` answered with -32800, and `$/ping`.
/// What the server does on `initialize`, `shutdown` and `exit` comes in as closures, so the
/// composition root decides (set the credential, watch the parent, end the process).
package struct LSPSession: RPCSession {
    private let initializeResult: RPCResult
    private let onInitialize: @Sendable (InitializeOptions) async throws -> Void
    private let onShutdown: @Sendable () async -> Void
    private let onExit: @Sendable (Int32) -> Void

    /// - Parameters:
    ///   - onInitialize: applies the validated `initialize` params before the answer is sent;
    ///     requests that arrive meanwhile wait. Throw `RPCError` to refuse.
    ///   - onShutdown: runs for `shutdown`, after the requests received before it finished.
    ///   - onExit: gets the exit code the LSP rules prescribe: 0 after `shutdown`, else 1.
    package init(
        name: String = ServerIdentity.name,
        version: String = ServerIdentity.version,
        capabilities: JSON = ServerIdentity.capabilities,
        onInitialize: @escaping @Sendable (InitializeOptions) async throws -> Void = { _ in },
        onShutdown: @escaping @Sendable () async -> Void = {},
        onExit: @escaping @Sendable (Int32) -> Void = { _ in }
    ) {
        let result: JSON = [
            "serverInfo": ["name": .string(name), "version": .string(version)],
            "capabilities": capabilities,
        ]
        initializeResult = (try? result.serialized()).map(RPCResult.serialized) ?? .json(result)
        self.onInitialize = onInitialize
        self.onShutdown = onShutdown
        self.onExit = onExit
    }

    package func makeLifecycle() -> any SessionLifecycle { LSPLifecycle() }

    package var builtInMethods: [String: RPCBuiltInHandler] { ["$/ping": { _ in emptyObject }] }

    package var cancelNotification: CancelNotification { CancelNotification(method: "$/cancelRequest", idMember: "id") }

    package func cancelledAnswer(_ cause: CancellationCause) -> RPCError? {
        switch cause {
        case .client:
            return .requestCancelled
        case .inputClosed(let committed):
            let message =
                committed
                ? "Request cancelled: the input closed before it finished; it may still take effect upstream"
                : "Request cancelled: the input closed before it finished"
            return RPCError(code: RPCError.Code.requestCancelled, message: message)
        }
    }

    package func initialize(_ params: JSON?) async throws -> RPCResult {
        try await onInitialize(try InitializeOptions(params: params))
        return initializeResult
    }

    package func shutdown() async { await onShutdown() }

    package func exit(code: Int32) { onExit(code) }
}

private let emptyObject = RPCResult.serialized(Array("{}".utf8))
