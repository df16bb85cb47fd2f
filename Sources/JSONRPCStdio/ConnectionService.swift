import Logging

/// Runs one connection over an input descriptor and a frame writer, from the first byte to
/// the last frame: the loop that a stdio server and each of the daemon's socket sessions
/// share, so both stop for the same reasons in the same way.
package enum ConnectionService {
    /// How long in-flight requests may take to finish after end of input or a draining signal.
    package static let drainTimeout = Duration.seconds(10)
    /// How long buffered output may take to reach the reader once the connection stops.
    static let flushTimeout = Duration.seconds(5)

    /// Starts pumping `input` into `connection`: end of input is a reason to stop.
    /// `afterInputEnds` runs once the reader is done with the descriptor, so whoever owns it
    /// knows when it may close it.
    package static func start(
        _ connection: some StdioConnection, input: InputPump, writer: FrameWriter, termination: Termination,
        afterInputEnds: @escaping @Sendable () -> Void = {}
    ) {
        input.start(
            waitForCapacity: { writer.waitForCapacity() },
            consume: { chunk in
                // Answers produced while handling one slice of input leave together, in one write.
                writer.cork()
                connection.receive(chunk)
                writer.uncork()
            },
            onEnd: {
                termination.request(.endOfInput)
                afterInputEnds()
            })
    }

    /// Finishes what `reason` allows (drain the requests at work, flush the output) and
    /// returns the exit status it implies: the `exit` notification's, else 0.
    package static func finish(
        _ connection: some StdioConnection, for reason: TerminationReason, writer: FrameWriter, logger: Logger
    ) async -> Int32 {
        let flushDeadline = ContinuousClock.now + flushTimeout
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
            logger.notice("the reader of our output went away; stopping")
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
