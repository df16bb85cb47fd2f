import DaemonWire
import ForwarderCore
import HyperstackDaemon
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The full binary's last resort when its daemon is gone and cannot be started again: a
/// private session (`PrivateSessionServer`) over a socket pair, in this process.
final class InProcessSession: PrivateSession {
    let descriptor: Int32
    var servingNote: String { "serving in this process" }

    init(logger: Logger) throws(ConnectFailure) {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .unusable("cannot create a socket pair (errno \(errno))")
        }
        descriptor = pair[0]
        let theirs = pair[1]
        Task { await PrivateSessionServer.serve(descriptor: theirs, fingerprint: BuildFingerprint.ofThisBuild, logger: logger) }
    }
}
