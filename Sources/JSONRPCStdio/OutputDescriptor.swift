#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whole-buffer writes that report failure instead of trapping (`FileHandle.write` traps),
/// for the few outputs that are not frames: `--help`, a one-shot call's result.
package enum OutputDescriptor {
    /// Writes all of `bytes`, retrying on EINTR and short writes; returns 0 or the errno.
    package static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return 0
    }
}

/// Plain writes to fd 2 for the few messages printed before (or instead of) logging.
package enum StandardError {
    package static func write(_ text: String) {
        _ = OutputDescriptor.writeAll(STDERR_FILENO, Array(text.utf8))
    }
}
