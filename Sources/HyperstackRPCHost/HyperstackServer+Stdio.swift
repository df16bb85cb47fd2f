import HyperstackRPCServer
import HyperstackSandbox
import JSONRPCStdio
import Logging
import SecureFiles

extension HyperstackServer {
    /// Serves one session on stdin/stdout until `exit`, end of input, a closed stdout, the
    /// parent's death or SIGTERM/SIGINT/SIGHUP, and returns the exit status for the process.
    ///
    /// The order is `StdioServer`'s: signals first, so a signal during start-up drains; then
    /// the state file's lock, before stdout is taken over; then the server over the writer.
    /// - Parameters:
    ///   - secretFiles: where generated secrets may be written; `nil` for the defaults.
    ///   - sessionProtocol: what the client speaks: JSON-RPC (either framing) or MCP (NDJSON).
    package static func serveStdio(
        _ settings: Settings, secretFiles: SecretFilePolicy? = nil, protocol sessionProtocol: SessionProtocol = .jsonRPC,
        logger: Logger
    ) async throws -> Int32 {
        var details = [("upstream", settings.upstreamDescription)]
        if case .mcp = sessionProtocol { details.append(("protocol", "mcp")) }
        let stdio = StdioServer(
            name: ServerIdentity.name, version: ServerIdentity.version, details: details, logger: logger)
        // Held until the process ends: a second server on the same file is refused (see SandboxStateLock).
        let stateLock = try settings.sandboxState.map { try SandboxStateLock(statePath: $0) }
        let writer = try stdio.takeOverStandardOutput()
        let server = try HyperstackServer(settings: settings, secretFiles: secretFiles, logger: logger)
        let termination = stdio.termination
        let session: HyperstackSession
        switch sessionProtocol {
        case .jsonRPC:
            session = server.openSession(
                framing: settings.framing, sink: writer,
                events: SessionEvents(
                    clientProcess: { termination.watchParent(processID: $0) },
                    exit: { termination.request(.exitNotification($0)) }))
        case .mcp(let inlineSecrets):
            session = server.openMCPSession(sink: writer, inlineSecrets: inlineSecrets)
        }
        let status = await stdio.serve(session, writer: writer)
        session.stop()
        // Before the server is let go: an upstream call still running (one a client cancelled)
        // holds the HTTP client, and AsyncHTTPClient traps when it is released unshut.
        await server.shutdown()
        withExtendedLifetime((stdio, stateLock)) {}
        return status
    }
}
