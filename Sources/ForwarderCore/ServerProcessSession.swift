#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The thin forwarder's last resort when its daemon is gone and cannot be started again:
/// the full server binary as a child serving this client alone (`hyperstack-rpc daemon
/// session`, a `PrivateSessionServer`) over a socket pair. Its logs go to our stderr.
package final class ServerProcessSession: PrivateSession {
    package let descriptor: Int32
    package var servingNote: String { "serving through a private server process" }

    package init(serverExecutable: String, logLevel: String) throws(ConnectFailure) {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .unusable("cannot create a socket pair (errno \(errno))")
        }
        defer { close(pair[1]) }
        do {
            _ = try DaemonLauncher.spawn(
                serverExecutable, arguments: ["daemon", "session", "--fd", "3", "--log-level", logLevel],
                detached: false, sessionDescriptor: pair[1])
        } catch {
            close(pair[0])
            throw error
        }
        descriptor = pair[0]
    }
}
