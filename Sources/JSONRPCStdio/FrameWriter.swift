import Foundation
import JSONRPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes whole frames to a file descriptor from one dedicated thread.
///
/// `write(_:)` only enqueues, so request handlers never block on a slow reader. The
/// thread drains everything queued in one go and writes it with as few system calls
/// as possible; frames are never split or interleaved because only this thread writes.
/// The queued byte count is the back-pressure signal the input side waits on.
///
/// `@unchecked Sendable` is safe here: every mutable field is read and written only
/// while holding `condition`, and the file descriptor is written by the writer thread only.
public final class FrameWriter: FrameSink, @unchecked Sendable {
    private let descriptor: Int32
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var queuedBytes = 0
    private var closing = false
    private var finished = false
    private var broken = false
    private let highWaterMark: Int
    private let onBrokenPipe: @Sendable () -> Void

    /// - Parameters:
    ///   - highWaterMark: queued bytes above which `waitForCapacity()` blocks the reader.
    ///   - onBrokenPipe: called once, from the writer thread, when the reader has gone away.
    public init(descriptor: Int32, highWaterMark: Int = 8 << 20, onBrokenPipe: @escaping @Sendable () -> Void) {
        self.descriptor = descriptor
        self.highWaterMark = highWaterMark
        self.onBrokenPipe = onBrokenPipe
        let thread = Thread { [self] in self.run() }
        thread.name = "hyperstack-rpc.writer"
        thread.start()
    }

    public func write(_ frame: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        guard !closing, !broken else { return }
        queue.append(frame)
        queuedBytes += frame.count
        condition.broadcast()
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
            condition.wait()
        }
    }

    /// Writes everything queued, then stops the thread. Returns false if the deadline passed first.
    @discardableResult
    public func flushAndClose(deadline: Date = .distantFuture) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        closing = true
        condition.broadcast()
        while !finished {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    private func run() {
        var batch: [[UInt8]] = []
        var buffer: [UInt8] = []
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            if queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            swap(&batch, &queue)
            condition.unlock()

            buffer.removeAll(keepingCapacity: true)
            var written = 0
            for frame in batch {
                buffer.append(contentsOf: frame)
                written += frame.count
            }
            batch.removeAll(keepingCapacity: true)
            let ok = writeAll(buffer)

            condition.lock()
            queuedBytes -= written
            if !ok {
                broken = true
                finished = true
                queue.removeAll()
                queuedBytes = 0
            }
            condition.broadcast()
            condition.unlock()
            if !ok {
                onBrokenPipe()
                return
            }
        }
    }

    /// Writes all of `bytes`, retrying short writes and EINTR. False on EPIPE or any other error.
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let result = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if result > 0 {
                    offset += result
                } else if result < 0 && errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
    }
}
