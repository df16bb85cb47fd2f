import JanssonJSON

/// The protocol personality a server gives its connections (LSP-style today, MCP next): how
/// `initialize` is answered, which methods each lifecycle state admits, how cancellation is
/// spelled and answered, and the methods every session answers itself. The connection
/// knows none of these rules; it only carries them out.
package protocol RPCSession: Sendable {
    /// A fresh lifecycle for one connection. It lives on the reader thread, so it is a
    /// plain value that needs no lock.
    func makeLifecycle() -> any SessionLifecycle

    /// Requests answered on the reader thread, ahead of everything else: they never wait
    /// for a running `initialize` and never count against the in-flight limit (a ping).
    /// They replace a method table entry of the same name.
    var builtInMethods: [String: RPCBuiltInHandler] { get }

    /// The notification that cancels a request, handled the moment it is read.
    var cancelNotification: CancelNotification { get }

    /// What a request cancelled by `cause` answers; `nil` answers nothing (MCP).
    func cancelledAnswer(_ cause: CancellationCause) -> RPCError?

    /// Serves the request the lifecycle admitted as `.initialize`: validates and applies its
    /// params, and returns the result. Work received meanwhile waits until it has answered.
    /// Throw `RPCError` to refuse.
    func initialize(_ params: JSON?) async throws -> RPCResult

    /// Serves the request admitted as `.shutdown`, once the requests before it have finished.
    /// Its answer is `null`.
    func shutdown() async

    /// Called for the notification admitted as `.exit`, with the exit code the lifecycle chose.
    func exit(code: Int32)

    /// Called once when the input has ended, before the connection waits for running work:
    /// the moment to end requests that only the client could have ended, such as MCP's
    /// `subscriptions/listen` streams, so that the wait is not for them.
    func inputEnded()
}

extension RPCSession {
    package func inputEnded() {}
}

/// Answers a built-in request on the reader thread. It must not block.
package typealias RPCBuiltInHandler = @Sendable (_ params: JSON?) throws -> RPCResult

/// The method of a session's cancel notification and the params member that names the
/// request: `{id}` for LSP, `notifications/cancelled {requestId}` for MCP.
package struct CancelNotification: Sendable, Equatable {
    package var method: String
    package var idMember: String

    package init(method: String, idMember: String) {
        self.method = method
        self.idMember = idMember
    }
}

/// Why a running request is being answered as cancelled.
package enum CancellationCause: Sendable, Equatable {
    /// The client sent the session's cancel notification.
    case client
    /// The input closed and the drain timed out; `committed` work may still take effect upstream.
    case inputClosed(committed: Bool)
}
