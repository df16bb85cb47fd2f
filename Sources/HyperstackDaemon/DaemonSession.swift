import DaemonWire
import HyperstackRPCHost
import JSONRPC
import JSONRPCStdio
import Logging
import SecureFiles
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One forwarder's session on the daemon's socket: the same connection service a stdio
/// server runs, over the socket instead of stdin and stdout, on a store it shares.
///
/// Everything that makes one session unable to hurt the others is per session: its own
/// reader thread and writer (a client that stops reading backs up only its own writer, and
/// then only its own reader waits), its own in-flight cap and message size limit from the
/// hello, and a bound on its backlog: past `maxBacklog` queued bytes the session is dropped
/// rather than let a stuck client hold the daemon's memory.
package enum DaemonSession {
    /// Output a session may leave unread before it is dropped.
    static let maxBacklog = 64 << 20

    /// Serves the session on `descriptor` until it ends, then closes it. The daemon drains
    /// it by requesting `.signal` on `termination`.
    package static func run(
        descriptor: Int32, server: HyperstackServer, hello: SessionHello, termination: Termination, logger: Logger
    ) async {
        let writer = FrameWriter(descriptor: descriptor) { termination.request(.outputClosed) }
        let sink = BoundedSink(writer: writer, limit: maxBacklog) {
            logger.warning("A session left more than \(maxBacklog >> 20) MiB of output unread; dropping it")
            termination.request(.outputClosed)
        }
        let limits = SessionLimits(
            maxMessageBytes: hello.maxMessageBytes, maxInFlight: hello.maxInFlight, pollInterval: hello.pollInterval)
        // The client's own secrets directory and allowed roots; the hello checked that they are
        // normal absolute paths, and the writer checks the rest when it writes (0700 directory,
        // O_EXCL|O_NOFOLLOW, 0600).
        let secretFiles = hello.secretFiles.map {
            SecretFilePolicy(secretsDirectory: $0.secretsDirectory, allowedDirectories: $0.allowedDirectories)
        }
        // Content-Length frames on the socket whatever the client speaks: the forwarder frames
        // the client's side as the client does.
        let session: HyperstackSession
        switch hello.clientProtocol {
        case .jsonRPC:
            session = server.openSession(
                framing: .lsp, sink: sink,
                // The forwarder watches its own parent; here `exit` ends this session only.
                events: SessionEvents(clientProcess: { _ in }, exit: { termination.request(.exitNotification($0)) }),
                limits: limits, secretFiles: secretFiles)
        case .mcp(let inlineSecrets):
            // MCP has no `exit`: the session ends when the forwarder closes its input.
            session = server.openMCPSession(
                sink: sink, inlineSecrets: inlineSecrets, limits: limits, secretFiles: secretFiles, framing: .lsp)
        }
        let inputEnded = OneTimeSignal()
        ConnectionService.start(
            session, input: InputPump(descriptor: descriptor), writer: writer, termination: termination,
            afterInputEnds: { inputEnded.signal() })
        let reason = await termination.firstReason()
        _ = await ConnectionService.finish(session, for: reason, writer: writer, logger: logger)
        session.stop()
        // Wakes the reader (and a writer stuck on a full socket), then closes once the
        // reader is done with the descriptor.
        shutdown(descriptor, Int32(SHUT_RDWR))
        writer.flushAndClose()
        await inputEnded.wait()
        close(descriptor)
    }
}

/// A frame sink that refuses to grow past a limit: the daemon's guard against a client
/// that never reads while changes keep being announced to it.
private struct BoundedSink: FrameSink {
    let writer: FrameWriter
    let limit: Int
    let onOverflow: @Sendable () -> Void

    func write(_ frame: [UInt8]) {
        guard writer.backlog <= limit else {
            onOverflow()
            return
        }
        writer.write(frame)
    }
}
