import Foundation
import JSONRPC

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
/// `@unchecked Sendable` is safe here: every mutable field is read and written only while
/// holding `condition`, and only the one holder of `writing` touches the descriptor.
public final class FrameWriter: FrameSink, @unchecked Sendable {
    private let descriptor: Int32
    /// Whether producers may write inline; false for terminals and files, which stay blocking.
    private let inlineWrites: Bool
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var queuedBytes = 0
    private var corkDepth = 0
    /// Someone (an inline producer or the writer thread) is writing to the descriptor.
    private var writing = false
    /// The pipe was full: the writer thread owns the queue until it has drained it.
    private var backlogged = false
    private var closing = false
    private var finished = false
    private var broken = false
    /// Threads blocked in `waitForCapacity` or `flushAndClose`. Progress is broadcast only
    /// when someone waits for it, so an inline write never wakes an idle thread.
    private var waiters = 0
    private let highWaterMark: Int
    /// Bytes a cork may hold back: a pipe buffer's worth.
    public static let corkLimit = 64 << 10
    private let onBrokenPipe: @Sendable () -> Void

    /// - Parameters:
    ///   - highWaterMark: queued bytes above which `waitForCapacity()` blocks the reader.
    ///   - onBrokenPipe: called once when the reader of our output has gone away.
    public init(descriptor: Int32, highWaterMark: Int = 256 << 10, onBrokenPipe: @escaping @Sendable () -> Void) {
        self.descriptor = descriptor
        self.highWaterMark = highWaterMark
        self.onBrokenPipe = onBrokenPipe
        self.inlineWrites = Self.makeNonBlockingIfPipe(descriptor)
        let thread = Thread { [self] in self.runBacklogWriter() }
        thread.name = "hyperstack-rpc.writer"
        thread.start()
    }

    public func write(_ frame: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        guard !closing, !broken else { return }
        queue.append(frame)
        queuedBytes += frame.count
        drainIfIdle()
    }

    /// Holds frames back until the matching `uncork()`, so that everything produced while
    /// handling one chunk of input is written together; once `corkLimit` bytes are held
    /// they go out anyway, so a cork never costs memory.
    public func cork() {
        condition.lock()
        corkDepth += 1
        condition.unlock()
    }

    public func uncork() {
        condition.lock()
        defer { condition.unlock() }
        corkDepth -= 1
        drainIfIdle()
    }

    /// Bytes waiting to be written.
    public var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return queuedBytes
    }

    /// Blocks the calling thread while more than the high-water mark is queued, so a
    /// client that stops reading stops the server from reading more work.
    public func waitForCapacity() {
        condition.lock()
        defer { condition.unlock() }
        while queuedBytes > highWaterMark && !broken && !finished {
            waitForProgress()
        }
    }

    /// Writes everything queued, then stops the thread. Returns false if the deadline passed first.
    @discardableResult
    public func flushAndClose(deadline: Date = .distantFuture) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        closing = true
        corkDepth = 0
        condition.broadcast()
        while !finished {
            waiters += 1
            let signalled = condition.wait(until: deadline)
            waiters -= 1
            if !signalled { return false }
        }
        return true
    }

    /// With the lock held: waits for the next broadcast, announced through `waiters`.
    private func waitForProgress() {
        waiters += 1
        condition.wait()
        waiters -= 1
    }

    // MARK: - Writing

    /// With the lock held: writes the queue from this thread while nobody else is writing,
    /// the writer is not corked and the pipe has room; otherwise leaves it queued for
    /// whoever will write next (the uncorking reader, or the backlog thread). Frames other
    /// threads add while this thread writes are written by this thread too, before it returns.
    private func drainIfIdle() {
        while corkDepth == 0 || queuedBytes >= Self.corkLimit, !writing, !queue.isEmpty, !broken {
            guard inlineWrites, !backlogged else {
                condition.broadcast()
                return
            }
            writeQueue(waitWhenFull: false)
        }
    }

    /// With the lock held: takes the queue and writes it with the lock released, as the one
    /// holder of `writing`, then accounts for the outcome.
    private func writeQueue(waitWhenFull: Bool) {
        writing = true
        let bytes = takeQueue()
        condition.unlock()
        let outcome = write(bytes, waitWhenFull: waitWhenFull)
        condition.lock()
        writing = false
        finish(bytes, outcome)
    }

    /// With the lock held: takes everything queued as one buffer (no copy for a single frame).
    private func takeQueue() -> [UInt8] {
        defer { queue.removeAll(keepingCapacity: true) }
        if queue.count == 1 { return queue[0] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(queuedBytes)
        for frame in queue { bytes.append(contentsOf: frame) }
        return bytes
    }

    /// With the lock held: accounts for a write and hands any rest to the writer thread.
    private func finish(_ bytes: [UInt8], _ outcome: WriteOutcome) {
        switch outcome {
        case .complete:
            queuedBytes -= bytes.count
            if queue.isEmpty { backlogged = false }
        case .full(let written):
            queuedBytes -= written
            queue.insert(Array(bytes[written...]), at: 0)
            backlogged = true
        case .broken:
            broken = true
            finished = true
            queue.removeAll()
            queuedBytes = 0
        }
        // The backlog thread needs waking only to take over a full pipe or to finish a close;
        // a completed inline write wakes nobody unless someone waits for capacity or the close.
        if waiters > 0 || backlogged || closing || broken || !inlineWrites {
            condition.broadcast()
        }
        if case .broken = outcome {
            // Outside the lock: the handler may want to look at us.
            condition.unlock()
            onBrokenPipe()
            condition.lock()
        }
    }

    /// The writer thread: drains a backlog, waiting for the pipe to accept more, and does
    /// every write when inline writes are off.
    private func runBacklogWriter() {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while !broken && (writing || queue.isEmpty || !(backlogged || !inlineWrites || closing)) {
                if closing && queue.isEmpty && !writing { break }
                condition.wait()
            }
            if broken { return }
            if queue.isEmpty && !writing && closing {
                finished = true
                condition.broadcast()
                return
            }
            writeQueue(waitWhenFull: true)
            if broken { return }
        }
    }

    private enum WriteOutcome {
        case complete
        /// The pipe is full; this many bytes went out.
        case full(written: Int)
        case broken
    }

    /// Writes `bytes`, retrying short writes and EINTR. When the pipe is full it either
    /// waits for room (`waitWhenFull`) or reports how far it got.
    private func write(_ bytes: [UInt8], waitWhenFull: Bool) -> WriteOutcome {
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
