/// What a session asks of whatever hosts it: the stdio process today, a daemon later. The
/// host decides what they mean for it (for stdio: watch that process, and exit).
package struct SessionEvents: Sendable {
    /// `initialize` named the client's process (`processId`).
    package var clientProcess: @Sendable (_ processID: Int32) -> Void
    /// The client sent `exit`, with the status LSP prescribes (0 after `shutdown`, else 1).
    package var exit: @Sendable (_ status: Int32) -> Void

    package init(
        clientProcess: @escaping @Sendable (_ processID: Int32) -> Void,
        exit: @escaping @Sendable (_ status: Int32) -> Void
    ) {
        self.clientProcess = clientProcess
        self.exit = exit
    }

    /// For a session whose host has nothing to do about either (a one-shot call).
    package static let ignored = SessionEvents(clientProcess: { _ in }, exit: { _ in })
}
