#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `hyperstack-rpc-forwarder` executable, seen from both sides of the exec: the full
/// binary finds it and replaces itself with it once connected to the daemon, so that a
/// long-lived editor session costs a few MB, not the whole server's pages; the forwarder
/// takes what was handed over.
package enum ThinForwarder {
    package static let executableName = "hyperstack-rpc-forwarder"
    /// Linux's F_SETPIPE_SZ and F_GETPIPE_SZ, which glibc declares only for _GNU_SOURCE.
    private static let (setPipeSize, getPipeSize): (Int32, Int32) = (1031, 1032)

    /// The thin forwarder installed with `serverExecutable`: beside it (a build folder, a
    /// wheel or npm package), else in `../libexec/hyperstack-rpc/` (`make install`). Only a
    /// regular executable file of ours or root's that nobody else may write is used, since it
    /// is handed the credential.
    package static func locate(besides serverExecutable: String) -> String? {
        guard let slash = serverExecutable.lastIndex(of: "/") else { return nil }
        let directory = String(serverExecutable[..<slash])
        let candidates = [
            "\(directory)/\(executableName)",
            "\(directory)/../libexec/hyperstack-rpc/\(executableName)",
        ]
        return candidates.first(where: isTrustworthyExecutable)
    }

    static func isTrustworthyExecutable(_ path: String) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return false }
        guard status.st_uid == geteuid() || status.st_uid == 0 else { return false }
        guard status.st_mode & (S_IWGRP | S_IWOTH) == 0 else { return false }
        return access(path, X_OK) == 0
    }

    /// Replaces this process with the thin forwarder at `executable`, which inherits
    /// `daemon` (a greeted connection) and reads `handoff` from a pipe. Returns only when the
    /// exec failed, with the reason; the caller then forwards in this process.
    package static func exec(_ executable: String, daemon: Int32, handoff: ForwarderHandoff) -> String {
        let bytes = handoff.encoded()
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return "cannot create a pipe (errno \(errno))" }
        let (reading, writing) = (ends[0], ends[1])
        // The whole hand-off must fit in the pipe before the exec, with nobody reading yet.
        _ = fcntl(writing, Self.setPipeSize, Int32(ForwarderHandoff.maxBytes))
        let capacity = fcntl(writing, Self.getPipeSize)
        _ = fcntl(writing, F_SETFL, fcntl(writing, F_GETFL) | O_NONBLOCK)
        let written = capacity >= bytes.count ? bytes.withUnsafeBytes { write(writing, $0.baseAddress, $0.count) } : -1
        close(writing)
        guard written == bytes.count else {
            close(reading)
            return "the hand-off (\(bytes.count) bytes) does not fit in a pipe"
        }
        // Both must survive the exec; everything else we hold is close-on-exec.
        let daemonFlags = fcntl(daemon, F_GETFD)
        _ = fcntl(daemon, F_SETFD, daemonFlags & ~FD_CLOEXEC)
        let arguments = [executable, "--handoff-fd", "\(reading)", "--daemon-fd", "\(daemon)"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv(executable, &argv)
        let reason = "cannot run \(executable): \(String(cString: strerror(errno)))"
        for pointer in argv { free(pointer) }
        _ = fcntl(daemon, F_SETFD, daemonFlags)
        close(reading)
        return reason
    }

    /// The hand-off from the pipe at `descriptor`, read to its end and closed.
    package static func receive(from descriptor: Int32) throws(HandoffError) -> [UInt8] {
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw HandoffError(description: "cannot read the hand-off (errno \(errno))")
            }
            bytes += chunk[..<count]
            guard bytes.count <= ForwarderHandoff.maxBytes else {
                throw HandoffError(description: "the hand-off is larger than \(ForwarderHandoff.maxBytes) bytes")
            }
        }
    }
}

/// The thin forwarder was started without a usable hand-off.
package struct HandoffError: Error, CustomStringConvertible {
    package var description: String
    package init(description: String) { self.description = description }
}
