import DaemonWire
import HyperstackDaemon
import HyperstackRPCServer
import JanssonJSON
import SecureFiles
import UnixSockets

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `daemon status` and `daemon stop`: one request on a connection of its own.
package enum DaemonControl {
    /// What a control request found.
    package enum Outcome {
        case answered(JSON)
        /// No daemon listens at the socket (exit status 3).
        case noDaemon
    }

    package static func status(_ paths: DaemonPaths) throws(DaemonWireError) -> Outcome {
        try request(.status, paths)
    }

    /// Asks the daemon to drain and exit, and waits (up to `timeout`) until it has: until
    /// the lock it holds for life is free (its pid may linger as a zombie, unreaped).
    package static func stop(_ paths: DaemonPaths, timeout: Duration = .seconds(20)) throws(DaemonWireError) -> Outcome {
        let outcome = try request(.stop, paths)
        guard case .answered(let welcome) = outcome else { return outcome }
        do {
            _ = try ExclusiveFileLock(path: paths.daemonLock, role: "daemon lock file", wait: timeout)
        } catch {
            let pid = welcome["pid"]?.intValue ?? 0
            throw DaemonWireError("the daemon (pid \(pid)) is still draining after \(timeout)")
        }
        return outcome
    }

    private static func request(_ kind: DaemonHello.Kind, _ paths: DaemonPaths) throws(DaemonWireError) -> Outcome {
        let descriptor: Int32
        do {
            descriptor = try UnixSocket.connect(path: paths.socket)
        } catch {
            if error.meansNoListener { return .noDaemon }
            throw DaemonWireError("\(error)")
        }
        defer { close(descriptor) }
        guard let peer = UnixSocket.peer(of: descriptor), peer.uid == geteuid() else {
            throw DaemonWireError("the process at \(paths.socket) is not running as this user")
        }
        let hello = DaemonHello(kind: kind, fingerprint: BuildFingerprint.ofThisBuild)
        guard DescriptorIO.writeAll(descriptor, hello.encoded()),
            let (line, _) = DescriptorIO.readLine(descriptor, limit: 1 << 20, timeout: .seconds(5))
        else { throw DaemonWireError("the daemon at \(paths.socket) did not answer") }
        let json = try DaemonLine.decode(line)
        if json["ok"]?.boolValue == false {
            throw DaemonWireError(json["error"]?.stringValue ?? "the daemon refused the request")
        }
        return .answered(json)
    }
}
