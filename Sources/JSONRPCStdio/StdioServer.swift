import Dispatch
import JSONRPC
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Serves one connection on the process's stdin and stdout, from the first signal handler to
/// the exit status, so that a server only says what it serves and how it is set up.
///
/// The steps are separate calls because their order is the behaviour and the server's own
/// set-up goes between them:
/// 1. `init` installs the signal policy (`SignalPolicy`), so a signal during start-up drains
///    instead of killing, and SIGUSR1 already answers ("starting").
/// 2. The caller takes whatever must be held before output exists (a state file's lock).
/// 3. `takeOverStandardOutput()` gives the protocol the real stdout (see `StandardStreams`)
///    and returns the writer that frames go to.
/// 4. The caller builds its connection over that writer, giving `termination` to whatever can
///    ask to stop (the `exit` notification, the parent watch).
/// 5. `serve(_:writer:)` pumps stdin into the connection until the first reason to stop,
///    finishes what that reason allows, and returns the process's exit status.
///
/// Not `Sendable`: it belongs to the function that serves; what other threads need is
/// `termination`.
package final class StdioServer {
    /// Where every reason to stop is requested, from any thread.
    package let termination: Termination
    private let identity: String
    private let details: [(name: String, value: String)]
    private let logger: Logger
    private let status: StatusLine
    private let signals: [any DispatchSourceSignal]

    /// Installs the signal policy at once: create the server first thing.
    /// - Parameters:
    ///   - name, version: how the status line and the start-up log introduce the server.
    ///   - details: further facts for both, such as `("upstream", "http")`; never a secret.
    package init(name: String, version: String, details: [(name: String, value: String)] = [], logger: Logger) {
        let termination = Termination()
        let status = StatusLine()
        self.termination = termination
        self.status = status
        identity = "\(name) \(version)"
        self.details = details
        self.logger = logger
        signals = SignalPolicy.install(
            onDrain: { termination.request(.signal($0)) },
            onStatus: { logger.notice("\(status.text)") })
    }

    /// Points fd 1 at stderr and returns the writer for the real stdout; a reader that goes
    /// away stops the server with `.outputClosed`.
    package func takeOverStandardOutput() throws -> FrameWriter {
        let protocolOutput = try StandardStreams.takeOverStandardOutput()
        let termination = termination
        return FrameWriter(descriptor: protocolOutput) { termination.request(.outputClosed) }
    }

    /// Reads stdin into `connection` until the first reason to stop, then drains or flushes
    /// as that reason allows. Returns the exit status: the `exit` notification's, else 0.
    package func serve(_ connection: some StdioConnection, writer: FrameWriter) async -> Int32 {
        let identity = identity
        let details = details.map { ", \($0.name) \($0.value)" }.joined()
        status.describe {
            let framing = connection.framing?.rawValue ?? "not yet detected"
            return "\(identity), pid \(getpid()), framing \(framing), output backlog \(writer.backlog) bytes\(details)"
        }
        ConnectionService.start(connection, input: InputPump(), writer: writer, termination: termination)
        var metadata = Logger.Metadata()
        for detail in self.details { metadata[detail.name] = "\(detail.value)" }
        logger.info("\(identity) serving on stdio", metadata: metadata)

        let reason = await termination.firstReason()
        let exitStatus = await ConnectionService.finish(connection, for: reason, writer: writer, logger: logger)
        withExtendedLifetime(signals) {}
        return exitStatus
    }
}
