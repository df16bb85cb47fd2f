import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a file descriptor on a dedicated thread and hands each chunk to a consumer.
///
/// Blocking reads on a thread of their own keep the cooperative pool free for request
/// handlers. Before each read the pump asks `waitForCapacity` to return, which is how a
/// backed-up writer slows the reader down instead of letting queued output grow without bound.
public final class InputPump: Sendable {
    private let descriptor: Int32
    private let chunkSize: Int

    public init(descriptor: Int32 = STDIN_FILENO, chunkSize: Int = 64 << 10) {
        self.descriptor = descriptor
        self.chunkSize = chunkSize
    }

    /// Starts the reading thread.
    /// - Parameters:
    ///   - waitForCapacity: blocks while the output side is backed up.
    ///   - consume: called with each chunk, on the reading thread, in order.
    ///   - onEnd: called once at end of input (or a read error), on the reading thread.
    public func start(
        waitForCapacity: @escaping @Sendable () -> Void,
        consume: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
        onEnd: @escaping @Sendable () -> Void
    ) {
        let descriptor = descriptor
        let chunkSize = chunkSize
        let thread = Thread {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                waitForCapacity()
                let count = read(descriptor, buffer.baseAddress, chunkSize)
                if count > 0 {
                    consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            onEnd()
        }
        thread.name = "hyperstack-rpc.reader"
        thread.start()
    }
}
