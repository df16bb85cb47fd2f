import DequeModule

/// Everything `FrameWriter` decides, as a value with no threads and no descriptor in it.
///
/// The writer holds one of these under its lock. Each event (a frame queued, a cork, a write
/// that returned, the backlog thread asking for work, a close) is a mutating method that
/// moves the state on and returns what the caller must do next: write bytes inline, wake the
/// condition, report a broken pipe, stop. The writer performs those actions and nothing else,
/// so every decision can be tested step by step (FrameWriterStateTests).
package struct FrameWriterState: Sendable {
    /// Who may touch the descriptor, and whether new frames are still accepted.
    package enum Phase: Equatable, Sendable {
        /// Nobody is writing. Anything queued is held back by a cork.
        case idle
        /// A producer thread writes what it took from the queue, with the lock released.
        /// Frames queued meanwhile are written by that same thread when it returns.
        case writingInline
        /// The backlog thread owns the queue: the pipe was full, or the descriptor is one
        /// that is only written from that thread (a terminal or a file, which stay blocking).
        case backlogged
        /// The backlog thread writes, waiting for the pipe to take it all.
        case writingBacklog
        /// `flushAndClose` was called: new frames are dropped, corks no longer count, and
        /// the backlog thread writes what is left. `writing`: a write (from either thread)
        /// is still under way.
        case closing(writing: Bool)
        /// Everything was written and the backlog thread has stopped.
        case closed
        /// The reader of our output went away; whatever was queued is dropped.
        case broken
    }

    /// What a producer (a thread in `write` or `uncork`) does next, with the lock held.
    package enum ProducerAction: Equatable, Sendable {
        /// Nothing: the frames wait for a cork to lift, or for the thread that is writing.
        case none
        /// Write these bytes from this thread with the lock released, then report the
        /// outcome to `writeFinished` and ask `producerStep` again.
        case write([UInt8])
        /// Broadcast: the backlog thread owns the queue and has work.
        case wakeBacklogWriter
    }

    /// What the backlog thread does next, with the lock held.
    package enum BacklogWriterAction: Equatable, Sendable {
        /// Wait on the condition until something changes.
        case wait
        /// Write these bytes, waiting for room, then report the outcome to `writeFinished`.
        case write([UInt8])
        /// Stop the thread; broadcast first when `wakeWaiters` (a `flushAndClose` waits).
        case stop(wakeWaiters: Bool)
    }

    /// How a write to the descriptor ended.
    package enum WriteOutcome: Equatable, Sendable {
        case complete
        /// The pipe is full; this many bytes went out.
        case full(written: Int)
        /// The reader has gone away (EPIPE or another hard error).
        case broken
    }

    /// What the writing thread does once its write has been accounted for.
    package struct AfterWrite: Equatable, Sendable {
        /// Broadcast the condition. Only when someone can be waiting for this: a thread in
        /// `waitForCapacity` or `flushAndClose`, or the backlog thread taking over. An inline
        /// write nobody waits for wakes nobody: that is one context switch per round trip.
        package var wakeWaiters: Bool
        /// Call the broken-pipe handler, outside the lock. True exactly once per writer.
        package var reportBrokenPipe: Bool

        package init(wakeWaiters: Bool, reportBrokenPipe: Bool = false) {
            self.wakeWaiters = wakeWaiters
            self.reportBrokenPipe = reportBrokenPipe
        }
    }

    package private(set) var phase: Phase
    /// Frames not yet handed to a writer, oldest first. The rest of a partly written buffer
    /// goes back at the front, which is why this is a deque.
    package private(set) var queue: Deque<[UInt8]> = []
    /// Bytes queued plus those of the write under way: the back-pressure signal.
    package private(set) var queuedBytes = 0
    /// Open `cork()` calls without their `uncork()`.
    package private(set) var corkDepth = 0
    /// Threads blocked in `waitForCapacity` or `flushAndClose` (the backlog thread is not one).
    package private(set) var waiters = 0
    /// False for terminals and files: every write then goes through the backlog thread.
    package let writesInline: Bool
    /// Queued bytes above which `mustWaitForCapacity` holds the reader back.
    package let highWaterMark: Int
    /// Bytes a cork may hold back before they go out anyway.
    package let corkLimit: Int

    package init(writesInline: Bool, highWaterMark: Int, corkLimit: Int) {
        self.writesInline = writesInline
        self.highWaterMark = highWaterMark
        self.corkLimit = corkLimit
        phase = writesInline ? .idle : .backlogged
    }

    // MARK: - Producers

    /// A frame to write. Dropped once closing or broken.
    package mutating func enqueue(_ frame: [UInt8]) -> ProducerAction {
        switch phase {
        case .idle where queue.isEmpty && (corkDepth == 0 || frame.count >= corkLimit):
            // The round-trip path: nothing queued, nothing corked, so the frame goes
            // straight out from this thread without passing through the queue.
            queuedBytes += frame.count
            phase = .writingInline
            return .write(frame)
        case .closing, .closed, .broken:
            return .none
        default:
            queue.append(frame)
            queuedBytes += frame.count
            return producerStep()
        }
    }

    /// Holds frames back until the matching `uncork()`. Ignored once closing: the close
    /// lifted every cork.
    package mutating func cork() {
        guard acceptsFrames else { return }
        corkDepth += 1
    }

    package mutating func uncork() -> ProducerAction {
        guard acceptsFrames else { return .none }
        assert(corkDepth > 0, "uncork() without a matching cork()")
        corkDepth = max(corkDepth - 1, 0)
        return producerStep()
    }

    /// What a producer does now: write the whole queue inline while nobody writes, the
    /// writer is not corked (or the cork is full) and the pipe has room; wake the backlog
    /// thread if it owns the queue; otherwise leave the frames for whoever writes next.
    package mutating func producerStep() -> ProducerAction {
        switch phase {
        case .idle:
            guard hasFramesToRelease else { return .none }
            phase = .writingInline
            return .write(takeQueue())
        case .backlogged:
            return hasFramesToRelease ? .wakeBacklogWriter : .none
        case .writingInline, .writingBacklog, .closing, .closed, .broken:
            return .none
        }
    }

    // MARK: - Writes

    /// Accounts for a write of `bytes` (handed out by `producerStep`, `enqueue` or
    /// `backlogWriterStep`): a full pipe hands the rest to the backlog thread, a broken one
    /// drops everything.
    package mutating func writeFinished(_ bytes: [UInt8], _ outcome: WriteOutcome) -> AfterWrite {
        let writer = phase
        precondition(
            writer == .writingInline || writer == .writingBacklog || writer == .closing(writing: true),
            "writeFinished without a write under way (phase \(writer))")
        switch outcome {
        case .broken:
            phase = .broken
            queue.removeAll()
            queuedBytes = 0
            // The backlog thread must wake to stop, and every waiter to return.
            return AfterWrite(wakeWaiters: true, reportBrokenPipe: true)
        case .complete:
            queuedBytes -= bytes.count
        case .full(let written):
            queuedBytes -= written
            queue.prepend(Array(bytes[written...]))
        }
        switch writer {
        case .writingInline:
            if case .full = outcome {
                phase = .backlogged
                return AfterWrite(wakeWaiters: true)
            }
            phase = .idle
            return AfterWrite(wakeWaiters: waiters > 0)
        case .writingBacklog:
            // The backlog thread is the caller and goes on by itself; only waiters need news.
            phase = writesInline && queue.isEmpty ? .idle : .backlogged
            return AfterWrite(wakeWaiters: waiters > 0)
        default:
            // Closing: the backlog thread may be waiting for this write to end.
            phase = .closing(writing: false)
            return AfterWrite(wakeWaiters: true)
        }
    }

    // MARK: - The backlog thread

    /// What the backlog thread does next: write the backlog, write what is left after a
    /// close, stop once closed or broken, or wait.
    package mutating func backlogWriterStep() -> BacklogWriterAction {
        switch phase {
        case .backlogged where !queue.isEmpty:
            phase = .writingBacklog
            return .write(takeQueue())
        case .closing(writing: false) where !queue.isEmpty:
            phase = .closing(writing: true)
            return .write(takeQueue())
        case .closing(writing: false):
            phase = .closed
            return .stop(wakeWaiters: waiters > 0)
        case .closed, .broken:
            // A broken write woke everyone already.
            return .stop(wakeWaiters: false)
        case .idle, .writingInline, .backlogged, .writingBacklog, .closing(writing: true):
            return .wait
        }
    }

    // MARK: - Closing and waiting

    /// `flushAndClose` was called: stop taking frames and lift every cork. The caller then
    /// broadcasts, so the backlog thread sees it.
    package mutating func close() {
        corkDepth = 0
        switch phase {
        case .idle, .backlogged:
            phase = .closing(writing: false)
        case .writingInline, .writingBacklog:
            phase = .closing(writing: true)
        case .closing, .closed, .broken:
            break
        }
    }

    /// A thread is about to wait on the condition for progress (capacity or the close).
    package mutating func waiterArrived() { waiters += 1 }

    package mutating func waiterLeft() {
        assert(waiters > 0, "waiterLeft() without waiterArrived()")
        waiters -= 1
    }

    /// Everything is written (or dropped) and the backlog thread stops.
    package var isFinished: Bool {
        switch phase {
        case .closed, .broken: true
        default: false
        }
    }

    /// The reader should wait: more than the high-water mark is queued and it can still drain.
    package var mustWaitForCapacity: Bool {
        queuedBytes > highWaterMark && !isFinished
    }

    // MARK: - Helpers

    private var acceptsFrames: Bool {
        switch phase {
        case .closing, .closed, .broken: false
        default: true
        }
    }

    /// Frames are queued and no cork holds them: none is open, or it already holds its limit.
    private var hasFramesToRelease: Bool {
        !queue.isEmpty && (corkDepth == 0 || queuedBytes >= corkLimit)
    }

    /// Takes everything queued as one buffer (no copy for a single frame).
    private mutating func takeQueue() -> [UInt8] {
        if queue.count == 1 { return queue.removeFirst() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(queuedBytes)
        for frame in queue { bytes.append(contentsOf: frame) }
        queue.removeAll(keepingCapacity: true)
        return bytes
    }
}
