import HyperstackRPCServer
import HyperstackSandbox
import JSONRPCStdio
import Logging

extension HyperstackServer {
    /// Serves one session on stdin/stdout until `exit`, end of input, a closed stdout, the
    /// parent's death or SIGTERM/SIGINT/SIGHUP, and returns the exit status for the process.
    ///
    /// The order is `StdioServer`'s: signals first, so a signal during start-up drains; then
    /// the state file's lock, before stdout is taken over; then the server over the writer.
    package static func serveStdio(_ settings: Settings, logger: Logger) async throws -> Int32 {
        let stdio = StdioServer(
            name: ServerIdentity.name, version: ServerIdentity.version,
            details: [("upstream", settings.upstreamDescription)], logger: logger)
        // Held until the process ends: a second server on the same file is refused (see SandboxStateLock).
        let stateLock = try settings.sandboxState.map { try SandboxStateLock(statePath: $0) }
        let writer = try stdio.takeOverStandardOutput()
        let server = try HyperstackServer(settings: settings, logger: logger)
        let termination = stdio.termination
        let session = server.openSession(
            framing: settings.framing, sink: writer,
            events: SessionEvents(
                clientProcess: { termination.watchParent(processID: $0) },
                exit: { termination.request(.exitNotification($0)) }))
        let status = await stdio.serve(session, writer: writer)
        session.stop()
        withExtendedLifetime((stdio, stateLock)) {}
        return status
    }
}
