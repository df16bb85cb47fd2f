#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SecureFiles

/// Appends whole log lines to a file opened by `SecureFile.openForAppending`: never
/// through a symlink, never someone else's file, created 0600.
///
/// Each line goes out in one `write` on an `O_APPEND` descriptor, which the kernel keeps
/// whole, so threads logging at once never interleave within a line.
package final class LogFileSink: Sendable {
    private let descriptor: Int32

    package init(path: String) throws(SecureFileError) {
        descriptor = try SecureFile.openForAppending(path, role: "log file")
    }

    package func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in _ = systemWrite(descriptor, bytes.baseAddress, bytes.count) }
    }
}

/// `write(2)`, named apart from `LogFileSink.write(_:)`, which would otherwise shadow it.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
