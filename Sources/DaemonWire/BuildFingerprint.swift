import CBuildIdentity
import Crypto
import HyperstackRPCServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Names this exact build and the daemon protocol it speaks, so a forwarder only ever
/// talks to a daemon from the same binary: after an upgrade the new binary's socket has a
/// new name, a fresh daemon starts there, and the old one idles out (the stale-daemon
/// failure gopls users reported).
///
/// The build is identified by the linker's GNU build-id note, read from our own loaded
/// program headers (`CBuildIdentity`, no file I/O); a binary without one falls back to the executable's size and
/// modification time.
package enum BuildFingerprint {
    /// Bumped whenever the hello, the welcome or the session stream change meaning.
    package static let daemonProtocolVersion = 1

    /// This server's fingerprint, computed once.
    package static let ofThisBuild = current(version: ServerIdentity.version)

    /// 16 hex digits: SHA-256 of the protocol version, the version and the build identity.
    package static func current(version: String) -> String {
        let identity = buildID() ?? executableStamp()
        let text = "hyperstack-rpc daemon protocol \(daemonProtocolVersion)|\(version)|\(identity)"
        return String(SHA256.hash(data: Array(text.utf8)).hexDigits.prefix(16))
    }

    /// The main program's NT_GNU_BUILD_ID, in hex, or `nil` when it has none.
    static func buildID() -> String? {
        var bytes = [UInt8](repeating: 0, count: 64)
        let length = bytes.withUnsafeMutableBufferPointer { hs_build_id($0.baseAddress, $0.count) }
        return length > 0 ? bytes[..<length].hexDigits : nil
    }

    /// Size and modification time of the running executable.
    private static func executableStamp() -> String {
        var status = stat()
        guard stat("/proc/self/exe", &status) == 0 else { return "unknown" }
        return "\(status.st_size)-\(status.st_mtim.tv_sec)-\(status.st_mtim.tv_nsec)"
    }
}

extension Sequence<UInt8> {
    /// Lower-case hex, two digits a byte.
    package var hexDigits: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
