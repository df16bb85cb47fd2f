import Dispatch
import Foundation
import JSONRPCStdio
import Locking
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real pipe: the writer gets the write end, the test reads the other.
struct Pipe {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PipeError() }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    /// Reads until `count` bytes arrived or the writer closed.
    func read(count: Int, timeout: Duration = .seconds(20)) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + timeout
        while bytes.count < count && ContinuousClock.now < deadline {
            var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return bytes
    }

    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}

struct PipeError: Error {}

/// Frames of the form `<n>:<padding>\n`, so order and integrity can be checked.
func frame(_ number: Int, size: Int = 64) -> [UInt8] {
    let head = Array("\(number):".utf8)
    return head + Array(repeating: UInt8(ascii: "x"), count: max(0, size - head.count - 1)) + [UInt8(ascii: "\n")]
}

func numbers(in bytes: [UInt8]) -> [Int] {
    bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return Int(String(decoding: line[line.startIndex..<colon], as: UTF8.self))
    }
}

@Suite struct FrameWriterTests {
    @Test func framesFromManyThreadsArriveWholeAndNoneIsStranded() async throws {
        // Regression: frames queued while another thread was writing inline were left in
        // the queue with nobody to write them, so a pipelined client waited forever.
        let pipe = try Pipe()
        defer { pipe.close() }
        let writer = FrameWriter(descriptor: pipe.writeEnd) {}
        let perThread = 2000
        let threads = 4
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<threads {
                group.addTask {
                    for index in 0..<perThread {
                        if index % 100 == 0 { writer.cork() }
                        writer.write(frame(thread * perThread + index))
                        if index % 100 == 99 { writer.uncork() }
                    }
                }
            }
        }
        let bytes = pipe.read(count: threads * perThread * 64)
        #expect(bytes.count == threads * perThread * 64)
        #expect(Set(numbers(in: bytes)) == Set(0..<(threads * perThread)))
        #expect(writer.backlog == 0)
    }

    @Test func aFrameQueuedDuringAnInlineWriteIsNotStranded() throws {
        // Regression for the same bug, made likely: two threads write at the same instant,
        // then nobody writes again; both frames must arrive without any later write.
        let pipe = try Pipe()
        defer { pipe.close() }
        let writer = FrameWriter(descriptor: pipe.writeEnd) {}
        for round in 0..<300 {
            let start = Lock(false)
            let big = Array(repeating: UInt8(ascii: "y"), count: 16 << 10) + [UInt8(ascii: "\n")]
            let first = Thread.detachNewThreadWithResult {
                while !start.withLock({ $0 }) {}
                writer.write(big)
                return true
            }
            let second = Thread.detachNewThreadWithResult {
                while !start.withLock({ $0 }) {}
                writer.write(frame(round))
                return true
            }
            start.withLock { $0 = true }
            _ = first.wait()
            _ = second.wait()
            let bytes = pipe.read(count: big.count + 64, timeout: .seconds(2))
            #expect(bytes.count == big.count + 64, "round \(round): a frame was left in the queue")
            if bytes.count != big.count + 64 { return }
        }
    }

    @Test func corkedFramesWaitForUncorkThenLeaveInOrder() throws {
        let pipe = try Pipe()
        defer { pipe.close() }
        let writer = FrameWriter(descriptor: pipe.writeEnd) {}
        writer.cork()
        for number in 0..<10 { writer.write(frame(number)) }
        #expect(pipe.read(count: 1, timeout: .milliseconds(200)).isEmpty)
        writer.uncork()
        #expect(numbers(in: pipe.read(count: 640)) == Array(0..<10))
    }

    @Test func aCorkHoldsBackNoMoreThanItsLimit() throws {
        let pipe = try Pipe()
        defer { pipe.close() }
        let writer = FrameWriter(descriptor: pipe.writeEnd) {}
        writer.cork()
        let count = FrameWriter.corkLimit / 64 + 10
        for number in 0..<count { writer.write(frame(number)) }
        // Still corked, yet everything up to the limit has gone out already.
        let early = pipe.read(count: FrameWriter.corkLimit, timeout: .seconds(5))
        #expect(early.count >= FrameWriter.corkLimit)
        #expect(writer.backlog < FrameWriter.corkLimit)
        writer.uncork()
        let rest = pipe.read(count: count * 64 - early.count)
        #expect(numbers(in: early + rest) == Array(0..<count))
    }

    @Test func aFullPipeIsDrainedByTheBacklogThreadWithoutBlockingProducers() throws {
        let pipe = try Pipe()
        defer { pipe.close() }
        let writer = FrameWriter(descriptor: pipe.writeEnd, highWaterMark: 1 << 20) {}
        // Far more than a pipe holds (64 KiB); nobody reads yet, and write() must not block.
        let count = 4000
        let started = ContinuousClock.now
        for number in 0..<count { writer.write(frame(number, size: 256)) }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(writer.backlog > 0)
        let bytes = pipe.read(count: count * 256)
        #expect(numbers(in: bytes) == Array(0..<count))
        #expect(writer.backlog == 0)
    }

    @Test func waitForCapacityReturnsOnceTheReaderCatchesUp() async throws {
        let pipe = try Pipe()
        defer { pipe.close() }
        let writer = FrameWriter(descriptor: pipe.writeEnd, highWaterMark: 64 << 10) {}
        for number in 0..<2000 { writer.write(frame(number, size: 512)) }
        #expect(writer.backlog > 64 << 10)
        let reader = Task.detached { pipe.read(count: 2000 * 512) }
        writer.waitForCapacity()
        #expect(writer.backlog <= 64 << 10)
        #expect(await reader.value.count == 2000 * 512)
    }

    @Test func aClosedReaderIsReportedOnce() throws {
        signal(SIGPIPE, SIG_IGN)  // as the server does, so the write fails with EPIPE instead
        let pipe = try Pipe()
        _ = Glibc.close(pipe.readEnd)
        defer { _ = Glibc.close(pipe.writeEnd) }
        let reports = Lock(0)
        let writer = FrameWriter(descriptor: pipe.writeEnd) { reports.withLock { $0 += 1 } }
        for number in 0..<100 { writer.write(frame(number)) }
        writer.flushAndClose(deadline: .now + .seconds(5))
        #expect(reports.withLock { $0 } == 1)
    }

    @Test func flushAndCloseWritesEverythingQueued() throws {
        let pipe = try Pipe()
        defer { pipe.close() }
        let writer = FrameWriter(descriptor: pipe.writeEnd) {}
        writer.cork()
        for number in 0..<50 { writer.write(frame(number)) }
        let reader = Thread.detachNewThreadWithResult { pipe.read(count: 50 * 64) }
        #expect(writer.flushAndClose(deadline: .now + .seconds(10)))
        #expect(numbers(in: reader.wait()) == Array(0..<50))
    }
}

extension Thread {
    /// Runs `body` on a new thread; `wait()` returns its result.
    static func detachNewThreadWithResult<T: Sendable>(_ body: @escaping @Sendable () -> T) -> ThreadResult<T> {
        let result = ThreadResult<T>()
        Thread.detachNewThread { result.set(body()) }
        return result
    }
}

/// The value a detached thread produced; `wait` blocks until it is there, without polling.
final class ThreadResult<T: Sendable>: Sendable {
    private let value = Lock<T?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func set(_ newValue: T) {
        value.withLock { $0 = newValue }
        ready.signal()
    }

    func wait() -> T {
        ready.wait()
        ready.signal()  // later waits return at once
        return value.withLock { $0! }
    }
}
