import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a file descriptor on a dedicated thread and hands each chunk to a consumer.
///
/// Blocking reads on a thread of their own keep the cooperative pool free for request
/// handlers. A read takes up to `chunkSize` bytes, but the consumer gets them in slices of
/// at most `sliceSize`, and before each slice the pump asks `waitForCapacity` to return.
/// That is how a backed-up writer slows the reader down: one 64 KiB read of small
/// pipelined requests would otherwise produce megabytes of answers before anyone checked.
package final class InputPump: Sendable {
    private let descriptor: Int32
    private let chunkSize: Int
    private let sliceSize: Int

    package init(descriptor: Int32 = STDIN_FILENO, chunkSize: Int = 64 << 10, sliceSize: Int = 4 << 10) {
        precondition(chunkSize > 0 && sliceSize > 0, "InputPump needs positive chunk and slice sizes")
        self.descriptor = descriptor
        self.chunkSize = chunkSize
        self.sliceSize = sliceSize
    }

    /// Starts the reading thread.
    /// - Parameters:
    ///   - waitForCapacity: blocks while the output side is backed up.
    ///   - consume: called with each chunk, on the reading thread, in order.
    ///   - onEnd: called once at end of input (or a read error), on the reading thread,
    ///     after its last use of the descriptor.
    package func start(
        waitForCapacity: @escaping @Sendable () -> Void,
        consume: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
        onEnd: @escaping @Sendable () -> Void
    ) {
        let descriptor = descriptor
        let chunkSize = chunkSize
        let sliceSize = sliceSize
        DetachedThread.start(name: "hs-rpc reader") {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                waitForCapacity()
                let count = read(descriptor, buffer.baseAddress, chunkSize)
                if count > 0 {
                    var start = 0
                    while start < count {
                        if start > 0 { waitForCapacity() }
                        let end = min(start + sliceSize, count)
                        consume(UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
                        start = end
                    }
                } else if count < 0 && errno == EINTR {
                    continue
                } else if count < 0 && errno == EAGAIN {
                    // A socket shares its O_NONBLOCK with the writer's end of it: wait, don't spin.
                    var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    _ = poll(&entry, 1, -1)
                    continue
                } else {
                    break
                }
            }
            onEnd()
        }
    }
}
