import JanssonJSON

/// A session's lifecycle rules as a pure state machine: told each incoming method in order,
/// it decides what the connection does with it. No tasks, no I/O, so it is tested alone.
package protocol SessionLifecycle: Sendable {
    /// Decides about a request, and advances the state. `params` matter to a protocol whose
    /// requests carry their own session facts (MCP's 2026 revision puts the protocol version
    /// in each request's `_meta`); LSP's lifecycle looks at the method alone.
    mutating func admit(request method: String, params: JSON?) -> RequestAdmission
    /// Decides about a notification other than the session's cancel notification (which
    /// is handled in every state), and advances the state.
    mutating func admit(notification method: String) -> NotificationAdmission
}

extension SessionLifecycle {
    /// A request without params.
    package mutating func admit(request method: String) -> RequestAdmission {
        admit(request: method, params: nil)
    }
}

/// What the lifecycle decided about one request.
package enum RequestAdmission: Sendable, Equatable {
    /// Serve it: a built-in method, or the method table.
    case proceed
    /// Answer with this error and do nothing else.
    case refuse(RPCError)
    /// Run the session's `initialize`; work received meanwhile waits for its answer.
    case initialize
    /// Run the session's `shutdown` once the requests received before it have finished.
    case shutdown
}

/// What the lifecycle decided about one notification.
package enum NotificationAdmission: Sendable, Equatable {
    /// Hand it to the method table.
    case proceed
    /// Call the session's `exit` with this code.
    case exit(code: Int32)
    /// Drop it unread.
    case ignore
}
