#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Unix stream sockets for the daemon and its forwarders: listen, accept, connect, and
/// who is on the other end. Plain descriptors, close-on-exec, in blocking mode.
package enum UnixSocket {
    /// `sun_path` holds 108 bytes with the terminating NUL.
    package static let maxPathBytes = 107

    /// Binds and listens on `path`, mode 0600. The caller has made sure nothing else
    /// serves there (it holds the daemon's lock) and removed any stale socket.
    package static func listen(path: String, backlog: Int32 = 128) throws(SocketError) -> Int32 {
        var address = try socketAddress(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("cannot create a socket", code: errno) }
        // The socket file is made with the umask's mode; 0600 from the start, not after a chmod.
        let previous = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        let bindError = errno
        umask(previous)
        guard bound == 0 else {
            close(descriptor)
            throw SocketError("cannot listen on \(path)", code: bindError)
        }
        guard chmod(path, 0o600) == 0, Glibc.listen(descriptor, backlog) == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError("cannot listen on \(path)", code: code)
        }
        return descriptor
    }

    /// Waits for the next connection; `nil` when the listener was shut down or closed.
    package static func accept(_ listener: Int32) -> Int32? {
        while true {
            // accept4 needs _GNU_SOURCE, which the Glibc module lacks; nothing execs between the two calls.
            let descriptor = Glibc.accept(listener, nil, nil)
            if descriptor >= 0 {
                _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
                return descriptor
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                // Out of descriptors or memory: wait for sessions to end instead of spinning.
                usleep(50_000)
                continue
            default: return nil
            }
        }
    }

    /// Connects to the socket at `path`.
    package static func connect(path: String) throws(SocketError) -> Int32 {
        var address = try socketAddress(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("cannot create a socket", code: errno) }
        while true {
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result == 0 { return descriptor }
            let code = errno
            if code == EINTR { continue }
            close(descriptor)
            throw SocketError("cannot connect to \(path)", code: code)
        }
    }

    /// The process on the other end, as the kernel saw it when the connection was made.
    package static func peer(of descriptor: Int32) -> PeerCredentials? {
        var credentials = PeerCredentials(pid: 0, uid: 0, gid: 0)
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
        return credentials
    }

    /// A descriptor handed over by systemd socket activation (`LISTEN_FDS=1` and
    /// `LISTEN_PID` naming us): fd 3, made close-on-exec. `nil` when not activated.
    package static func activatedListener(environment: (String) -> String?) -> Int32? {
        guard let count = environment("LISTEN_FDS").flatMap({ Int($0) }), count >= 1,
            let pid = environment("LISTEN_PID").flatMap({ Int32($0) }), pid == getpid()
        else { return nil }
        let descriptor: Int32 = 3
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return descriptor
    }

    private static func socketAddress(_ path: String) throws(SocketError) -> sockaddr_un {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPathBytes, !bytes.contains(0) else {
            throw SocketError(
                "the socket path \(path) is longer than \(maxPathBytes) bytes, the limit for Unix sockets; choose a shorter one"
            )
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
        }
        return address
    }
}

/// Who connected, from `SO_PEERCRED`: laid out as Linux's `struct ucred` (which the Glibc
/// module hides behind _GNU_SOURCE), so `getsockopt` fills it directly.
package struct PeerCredentials: Sendable, Equatable {
    package var pid: Int32
    package var uid: uid_t
    package var gid: gid_t
}

/// A socket call that failed, with what was attempted and why.
package struct SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    /// The system error, if there was one (`ECONNREFUSED`, `ENOENT`, ...).
    package var code: Int32?

    package init(_ message: String, code: Int32? = nil) {
        self.message = message
        self.code = code
    }

    package var description: String {
        guard let code else { return message }
        let text = String(cString: strerror(code))
        return "\(message): \(text.prefix(1).lowercased() + text.dropFirst())"
    }

    /// Nobody listens there: no socket file, or one a dead process left behind.
    package var meansNoListener: Bool { code == ENOENT || code == ECONNREFUSED }
}
