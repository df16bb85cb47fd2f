#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whole writes and bounded line reads on a socket, for the few blocking exchanges around
/// a session (hello, welcome, status), and the forwarder's writes to the daemon. A
/// descriptor another thread made non-blocking is waited on with `poll`, never spun on.
package enum DescriptorIO {
    /// Writes all of `bytes`; false when the peer is gone or another error ends it.
    @discardableResult
    package static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var pointer = bytes.baseAddress else { return true }
        var remaining = bytes.count
        while remaining > 0 {
            let written = send(descriptor, pointer, remaining, Int32(MSG_NOSIGNAL))
            if written > 0 {
                pointer += written
                remaining -= written
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: guard waitUntil(descriptor, ready: Int16(POLLOUT), milliseconds: -1) else { return false }
            default: return false
            }
        }
        return true
    }

    @discardableResult
    package static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll(descriptor, $0) }
    }

    /// Reads up to `into.count` bytes, waiting for at least one: the count, or 0 at end
    /// of input or on an error.
    package static func readSome(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return count }
            if count == 0 { return 0 }
            switch errno {
            case EINTR: continue
            case EAGAIN: guard waitUntil(descriptor, ready: Int16(POLLIN), milliseconds: -1) else { return 0 }
            default: return 0
            }
        }
    }

    /// Reads one `\n`-terminated line of at most `limit` bytes within `timeout`. Returns the
    /// line without its newline and whatever followed it in the last read; `nil` on end of
    /// input, a timeout or a line too long.
    package static func readLine(
        _ descriptor: Int32, limit: Int, timeout: Duration
    ) -> (line: [UInt8], rest: [UInt8])? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                return (Array(bytes[..<newline]), Array(bytes[(newline + 1)...]))
            }
            guard bytes.count < limit else { return nil }
            let left = deadline - clock.now
            guard left > .zero else { return nil }
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            guard waitUntil(descriptor, ready: Int16(POLLIN), milliseconds: milliseconds) else { return nil }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                bytes += chunk[..<count]
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                return nil
            }
        }
    }

    /// Waits until `descriptor` is ready for `events` (or has hung up); false on a timeout.
    package static func waitUntil(_ descriptor: Int32, ready events: Int16, milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        while true {
            let result = poll(&entry, 1, milliseconds)
            if result > 0 { return true }
            if result == 0 { return false }
            if errno != EINTR { return false }
        }
    }
}
