import JSONRPC
import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes whole frames to the protocol's file descriptor, in order, never interleaved.
///
/// When the output is a pipe or socket it is made non-blocking, and a frame is written
/// straight from the thread that produced it while nothing is queued: a request answered
/// on the reader thread goes out with no thread hop at all. The reader "corks" the writer
/// while it works through one chunk of input, so the answers to a pipelined burst leave
/// in one system call. Only when the reader of our stdout falls behind (EAGAIN) does a
/// dedicated thread take over the backlog and wait for the pipe to drain; producers never
/// block. The queued byte count is the back-pressure signal the input side waits on.
///
/// Every decision (who writes, when to wake whom, what a full or broken pipe means) is a
/// transition of `FrameWriterState`; this class holds that state under one lock, does the
/// descriptor I/O and performs the actions the transitions return.
///
/// `@unchecked Sendable` is safe here: `state`, the one mutable field, is read and written
/// only while holding `condition`, and only the thread that the state handed a write to
/// touches the descriptor, until it reports the outcome back.
package final class FrameWriter: FrameSink, @unchecked Sendable {
    private let descriptor: Int32
    private let condition = ConditionLock()
    private var state: FrameWriterState
    /// Bytes a cork may hold back: a pipe buffer's worth.
    package static let corkLimit = 64 << 10
    private let onBrokenPipe: @Sendable () -> Void

    /// - Parameters:
    ///   - highWaterMark: queued bytes above which `waitForCapacity()` blocks the reader.
    ///   - onBrokenPipe: called once when the reader of our output has gone away.
    package init(descriptor: Int32, highWaterMark: Int = 256 << 10, onBrokenPipe: @escaping @Sendable () -> Void) {
        self.descriptor = descriptor
        self.onBrokenPipe = onBrokenPipe
        // Terminals and files stay blocking and are written only by the backlog thread.
        state = FrameWriterState(
            writesInline: Self.makeNonBlockingIfPipe(descriptor),
            highWaterMark: highWaterMark,
            corkLimit: Self.corkLimit)
        DetachedThread.start(name: "hs-rpc writer") { [self] in self.runBacklogWriter() }
    }

    package func write(_ frame: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        perform(state.enqueue(frame))
    }

    /// Holds frames back until the matching `uncork()`, so that everything produced while
    /// handling one chunk of input is written together; once `corkLimit` bytes are held
    /// they go out anyway, so a cork never costs memory.
    package func cork() {
        condition.lock()
        state.cork()
        condition.unlock()
    }

    package func uncork() {
        condition.lock()
        defer { condition.unlock() }
        perform(state.uncork())
    }

    /// Bytes waiting to be written.
    package var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.queuedBytes
    }

    /// Blocks the calling thread while more than the high-water mark is queued, so a
    /// client that stops reading stops the server from reading more work.
    package func waitForCapacity() {
        condition.lock()
        defer { condition.unlock() }
        while state.mustWaitForCapacity {
            state.waiterArrived()
            condition.wait()
            state.waiterLeft()
        }
    }

    /// Writes everything queued, then stops the thread. Returns false if the deadline passed first.
    @discardableResult
    package func flushAndClose(deadline: ContinuousClock.Instant? = nil) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        state.close()
        condition.broadcast()
        while !state.isFinished {
            state.waiterArrived()
            let signalled = condition.wait(until: deadline)
            state.waiterLeft()
            if !signalled { return false }
        }
        return true
    }

    // MARK: - Performing transitions

    /// With the lock held: carries out a producer's action. Frames that other threads queue
    /// while this one writes inline are written by this one too, before it returns.
    private func perform(_ first: FrameWriterState.ProducerAction) {
        var action = first
        while case .write(let bytes) = action {
            writeReleasingLock(bytes, waitWhenFull: false)
            action = state.producerStep()
        }
        if case .wakeBacklogWriter = action {
            condition.broadcast()
        }
    }

    /// With the lock held: writes `bytes` with the lock released, then reports the outcome
    /// and performs what the state asks for.
    private func writeReleasingLock(_ bytes: [UInt8], waitWhenFull: Bool) {
        condition.unlock()
        let outcome = writeToDescriptor(bytes, waitWhenFull: waitWhenFull)
        condition.lock()
        let after = state.writeFinished(bytes, outcome)
        if after.wakeWaiters {
            condition.broadcast()
        }
        if after.reportBrokenPipe {
            // Outside the lock: the handler may want to look at us.
            condition.unlock()
            onBrokenPipe()
            condition.lock()
        }
    }

    /// The writer thread: drains a backlog, waiting for the pipe to accept more, does every
    /// write when inline writes are off, and writes what is left after a close.
    private func runBacklogWriter() {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch state.backlogWriterStep() {
            case .wait:
                condition.wait()
            case .write(let bytes):
                writeReleasingLock(bytes, waitWhenFull: true)
            case .stop(let wakeWaiters):
                if wakeWaiters { condition.broadcast() }
                return
            }
        }
    }

    /// Writes `bytes`, retrying short writes and EINTR. When the pipe is full it either
    /// waits for room (`waitWhenFull`) or reports how far it got.
    private func writeToDescriptor(_ bytes: [UInt8], waitWhenFull: Bool) -> FrameWriterState.WriteOutcome {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let result = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if result > 0 {
                    offset += result
                    continue
                }
                let error = errno
                if result < 0 && error == EINTR { continue }
                if result < 0 && (error == EAGAIN || error == EWOULDBLOCK) {
                    guard waitWhenFull else { return .full(written: offset) }
                    var pollEntry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pollEntry, 1, -1)
                    continue
                }
                return .broken
            }
            return .complete
        }
    }

    /// Sets O_NONBLOCK on pipes and sockets only: a terminal or file is shared with whoever
    /// started us, and making it non-blocking would surprise them.
    private static func makeNonBlockingIfPipe(_ descriptor: Int32) -> Bool {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFIFO || kind == S_IFSOCK else { return false }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0 else { return false }
        return true
    }
}
