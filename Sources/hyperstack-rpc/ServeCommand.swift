import APIKeyStore
import ArgumentParser
import Dispatch
import Foundation
import HyperstackRPCServer
import HyperstackSandbox
import InfrahubClient
import JSONRPC
import JSONRPCStdio
import Logging
import Synchronization

/// Serves JSON-RPC on stdin/stdout until `exit`, end of input, a closed stdout,
/// the parent's death or SIGTERM/SIGINT/SIGHUP (see `SignalPolicy`).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve JSON-RPC 2.0 on stdin/stdout (the default)."
    )

    @OptionGroup var options: SharedOptions

    /// How long in-flight requests may take to finish after end of input, SIGTERM or SIGHUP.
    static let drainTimeout = Duration.seconds(10)

    func run() async throws {
        try await Self.serve(options.settings)
    }

    /// Serves until told to stop, then exits the process.
    static func serve(_ settings: Settings) async throws -> Never {
        let logger = try LoggingSetup.bootstrap(level: settings.logLevel ?? .info, file: settings.logFile)
        let termination = Termination()
        let started = ContinuousClock.now
        let status = Mutex<(@Sendable () -> String)?>(nil)
        // First, so that a signal during start-up drains instead of killing.
        let signals = SignalPolicy.install(
            onDrain: { termination.request(.signal($0)) },
            onStatus: { logger.notice("status: \(status.withLock { $0 }?() ?? "starting"), up \(wholeSeconds(ContinuousClock.now - started)) s") })
        // Held until the process ends: a second server on the same file is refused (see SandboxStateLock).
        let stateLock = try settings.sandboxState.map { try SandboxStateLock(statePath: $0) }
        let protocolOutput = try StandardStreams.takeOverStandardOutput()
        let writer = FrameWriter(descriptor: protocolOutput) { termination.request(.outputClosed) }
        let notifier = ChangeNotifier()
        let upstream = try Upstream(settings: settings, logger: logger) { notifier.publish($0) }
        let includeTestMethods = Environment.value(TestOnlyMethods.environmentVariable) == "1"
        let parentWatch = Mutex<Task<Void, Never>?>(nil)

        let session = LSPSession(
            onInitialize: { initialize in
                if let key = initialize.apiKey { upstream.client.setCredential(key) }
                if let processID = initialize.processID {
                    let watch = ParentProcessMonitor(processID: processID).watch {
                        termination.request(.parentExited)
                    }
                    parentWatch.withLock { $0 = watch }
                }
            },
            onExit: { code in termination.request(.exitNotification(code)) })
        let connection = RPCConnection(
            configuration: ConnectionConfiguration(
                framing: settings.framing,
                maxMessageBytes: settings.maxMessageBytes,
                maxInFlight: settings.maxInFlight),
            session: session,
            methods: ServerMethods.table(store: upstream.store, includeTestMethods: includeTestMethods),
            sink: writer,
            logger: logger)
        // Weak: the connection owns the method table, which owns the store, which owns this.
        notifier.connect { [weak connection] method, params in connection?.notify(method, params: params) }

        status.withLock { line in
            line = { [weak connection] in
                let framing = connection?.framing?.rawValue ?? "not yet detected"
                return "hyperstack-rpc \(ServerIdentity.version), pid \(getpid()), framing \(framing), output backlog \(writer.backlog) bytes, upstream \(settings.sandbox ? "embedded sandbox" : "http")"
            }
        }
        InputPump().start(
            waitForCapacity: { writer.waitForCapacity() },
            consume: { chunk in
                // Answers produced while handling one slice of input leave together, in one write.
                writer.cork()
                connection.receive(chunk)
                writer.uncork()
            },
            onEnd: { termination.request(.endOfInput) })
        logger.info("hyperstack-rpc \(ServerIdentity.version) serving on stdio", metadata: ["upstream": "\(settings.sandbox ? "embedded sandbox" : "http")"])

        let reason = await termination.firstReason()
        let exitStatus = await stop(for: reason, connection: connection, writer: writer, logger: logger)
        withExtendedLifetime((signals, stateLock)) {}
        Foundation.exit(exitStatus)
    }

    /// Finishes what the reason allows and returns the exit status.
    private static func stop(
        for reason: TerminationReason, connection: RPCConnection, writer: FrameWriter, logger: Logger
    ) async -> Int32 {
        let flushDeadline = Date().addingTimeInterval(5)
        switch reason {
        case .exitNotification(let status):
            logger.debug("exit notification received", metadata: ["status": "\(status)"])
            writer.flushAndClose(deadline: flushDeadline)
            return status
        case .endOfInput:
            logger.debug("end of input; finishing in-flight requests")
            await connection.finishInput(timeout: drainTimeout)
            writer.flushAndClose(deadline: flushDeadline)
            return 0
        case .outputClosed:
            logger.notice("stdout was closed by its reader; exiting")
            return 0
        case .parentExited:
            logger.notice("the parent process is gone; exiting")
            writer.flushAndClose(deadline: flushDeadline)
            return 0
        case .signal(let number):
            logger.notice("signal \(number) received; finishing in-flight requests")
            await connection.finishInput(timeout: drainTimeout)
            writer.flushAndClose(deadline: flushDeadline)
            return 0
        }
    }
}

/// Whole seconds of a duration, for the status line.
private func wholeSeconds(_ duration: Duration) -> Int64 {
    duration.components.seconds
}
