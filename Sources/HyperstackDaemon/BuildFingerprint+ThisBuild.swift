import CBuildIdentity
import Crypto
import DaemonWire
import HyperstackRPCServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The build is identified by the linker's GNU build-id note, read from our own loaded
/// program headers (`CBuildIdentity`, no file I/O); a binary without one falls back to the
/// executable's size and modification time.
extension BuildFingerprint {
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
