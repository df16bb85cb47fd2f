#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where one daemon lives: its socket, and beside it the lock the live daemon holds, the
/// lock a forwarder holds while starting one, and the daemon's log. All four sit in one
/// private directory (see `PrivateDirectory`).
package struct DaemonPaths: Sendable, Equatable {
    package let socket: String

    package init(socket: String) {
        self.socket = socket
    }

    /// `$XDG_RUNTIME_DIR/hyperstack-rpc/daemon-<fingerprint>.sock`, else
    /// `${TMPDIR:-/tmp}/hyperstack-rpc-<uid>/daemon-<fingerprint>.sock`.
    package static func defaultPaths(fingerprint: String, environment: (String) -> String?) -> DaemonPaths {
        let directory: String
        if let runtime = environment("XDG_RUNTIME_DIR"), runtime.hasPrefix("/") {
            directory = trimmed(runtime) + "/hyperstack-rpc"
        } else {
            let temporary = environment("TMPDIR").flatMap { $0.hasPrefix("/") ? trimmed($0) : nil } ?? "/tmp"
            directory = "\(temporary)/hyperstack-rpc-\(getuid())"
        }
        return DaemonPaths(socket: "\(directory)/daemon-\(fingerprint).sock")
    }

    /// The directory that holds the socket and its companions.
    package var directory: String {
        guard let slash = socket.lastIndex(of: "/") else { return "." }
        let directory = String(socket[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// Held (`flock`) by the live daemon for as long as it runs.
    package var daemonLock: String { socket + ".lock" }
    /// Held by a forwarder while it starts a daemon, so simultaneous starts make one.
    package var startLock: String { socket + ".start" }
    /// The daemon's log (0600), where its stderr goes too.
    package var log: String { socket + ".log" }

    private static func trimmed(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}
