import JanssonJSON

/// Serves one request. Throw `RPCError` for a protocol error the client should see;
/// any other error becomes a generic -32603, so internal details never leak.
package typealias RPCMethodHandler = @Sendable (_ params: JSON?, _ context: RequestContext) async throws -> RPCResult

/// Answers a request on the spot when it can, without starting a task: returns the
/// result, throws like a handler, or returns `nil` to fall through to the async handler.
/// It runs on the reader thread, so it must never block; a cache lookup is its job.
package typealias RPCImmediateHandler = @Sendable (_ params: JSON?) throws -> RPCResult?

/// Handles one notification. It cannot fail visibly: notifications are never answered.
package typealias RPCNotificationHandler = @Sendable (_ params: JSON?) async -> Void

/// The methods a connection serves, by name. The lifecycle methods and the session's
/// built-ins (see `RPCSession`) are the session's business, not the table's.
package struct MethodTable: Sendable {
    /// A registered request method.
    enum RequestMethod: Sendable {
        /// A session's built-in: answered inline, never waits, never refused.
        case builtIn(RPCBuiltInHandler)
        /// An async handler with an optional synchronous fast path.
        case handler(immediate: RPCImmediateHandler?, RPCMethodHandler)
    }

    private(set) var requests: [String: RequestMethod] = [:]
    private(set) var notifications: [String: RPCNotificationHandler] = [:]

    package init() {}

    /// Registers a request handler, replacing any earlier one of the same name. A
    /// notification naming this method runs the handler too, and its outcome is dropped.
    package mutating func register(_ method: String, handler: @escaping RPCMethodHandler) {
        requests[method] = .handler(immediate: nil, handler)
    }

    /// Registers a request handler with a synchronous fast path. The connection tries
    /// `immediate` first and answers inline, with no task, when it returns a result; it
    /// starts `handler` only when `immediate` returns `nil`. Both must agree on the result.
    package mutating func register(
        _ method: String, immediate: @escaping RPCImmediateHandler, handler: @escaping RPCMethodHandler
    ) {
        requests[method] = .handler(immediate: immediate, handler)
    }

    /// Registers a notification handler, replacing any earlier one of the same name.
    package mutating func registerNotification(_ method: String, handler: @escaping RPCNotificationHandler) {
        notifications[method] = handler
    }

    mutating func registerBuiltIn(_ method: String, handler: @escaping RPCBuiltInHandler) {
        requests[method] = .builtIn(handler)
    }
}
