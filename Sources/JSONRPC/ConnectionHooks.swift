import JanssonJSON

/// Where the server plugs into the connection's lifecycle handling.
public struct ConnectionHooks: Sendable {
    /// Called with the `initialize` params (already type-checked) before the response
    /// is sent; requests that arrive meanwhile wait. Throw `RPCError` to refuse.
    public var onInitialize: @Sendable (_ params: JSON?) async throws -> Void
    /// Called for the `exit` notification with the process exit code the LSP rules
    /// prescribe: 0 when `shutdown` came first, else 1.
    public var onExit: @Sendable (_ code: Int32) -> Void
    /// Called for `shutdown`, after the requests received before it have finished.
    public var onShutdown: @Sendable () async -> Void

    public init(
        onInitialize: @escaping @Sendable (_ params: JSON?) async throws -> Void = { _ in },
        onExit: @escaping @Sendable (_ code: Int32) -> Void = { _ in },
        onShutdown: @escaping @Sendable () async -> Void = {}
    ) {
        self.onInitialize = onInitialize
        self.onExit = onExit
        self.onShutdown = onShutdown
    }
}
