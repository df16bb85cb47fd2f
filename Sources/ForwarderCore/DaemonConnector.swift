import DaemonWire
import Logging
import SecureFiles
import UnixSockets

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a forwarder finds its daemon, and whether it may start one.
package struct RemoteEndpoint: Sendable, Equatable {
    package var paths: DaemonPaths
    /// `auto`: start a daemon when none answers. `unix:PATH`: use that socket only.
    package var autoStart: Bool

    package init(paths: DaemonPaths, autoStart: Bool) {
        self.paths = paths
        self.autoStart = autoStart
    }
}

/// Opens greeted connections to the daemon: checks the socket directory, connects, checks
/// that the daemon is our own user's and our own build, and, for `auto`, starts a daemon
/// when none answers (`DaemonLauncher`).
package struct DaemonConnector: Sendable {
    package let endpoint: RemoteEndpoint
    package let fingerprint: String
    /// The full server binary, which `auto` starts as the daemon.
    package let serverExecutable: String
    let logger: Logger

    package init(endpoint: RemoteEndpoint, fingerprint: String, serverExecutable: String, logger: Logger) {
        self.endpoint = endpoint
        self.fingerprint = fingerprint
        self.serverExecutable = serverExecutable
        self.logger = logger
    }

    /// A connection whose hello the daemon accepted, within `timeout`.
    package func open(_ hello: DaemonHello, timeout: Duration) throws(ConnectFailure) -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        do {
            if endpoint.autoStart {
                try PrivateDirectory.prepare(endpoint.paths.directory, role: "daemon socket directory")
            } else {
                try PrivateDirectory.check(endpoint.paths.directory, role: "daemon socket directory")
            }
        } catch {
            throw .unusable("\(error)")
        }
        var started = false
        while true {
            do {
                return try greet(hello)
            } catch let failure {
                guard case .noDaemon(let reason) = failure else { throw failure }
                guard clock.now < deadline else { throw .noDaemon(reason) }
                if endpoint.autoStart && !started {
                    try DaemonLauncher.start(
                        endpoint.paths, executable: serverExecutable, deadline: deadline, logger: logger
                    ) { () throws(ConnectFailure) in
                        try probe()
                    }
                    started = true
                } else {
                    usleep(20_000)
                }
            }
        }
    }

    /// Whether a daemon answers at the socket now (connected and of our own user).
    private func probe() throws(ConnectFailure) -> Bool {
        do {
            let descriptor = try UnixSocket.connect(path: endpoint.paths.socket)
            close(descriptor)
            return true
        } catch {
            if error.meansNoListener { return false }
            throw .noDaemon("\(error)")
        }
    }

    private func greet(_ hello: DaemonHello) throws(ConnectFailure) -> Int32 {
        let descriptor: Int32
        do {
            descriptor = try UnixSocket.connect(path: endpoint.paths.socket)
        } catch {
            throw .noDaemon("\(error)")
        }
        return try greet(descriptor, hello)
    }

    /// Sends `hello` on a connection (the daemon's socket, or a private session's socket
    /// pair) and checks the answer: our own user, our own build, a welcome. Closes the
    /// descriptor if it throws.
    package func greet(_ descriptor: Int32, _ hello: DaemonHello) throws(ConnectFailure) -> Int32 {
        guard let peer = UnixSocket.peer(of: descriptor), peer.uid == geteuid() else {
            close(descriptor)
            throw .unusable("the process at \(endpoint.paths.socket) is not running as this user; refusing to talk to it")
        }
        guard DescriptorIO.writeAll(descriptor, hello.encoded()),
            let (line, _) = DescriptorIO.readLine(descriptor, limit: DaemonHello.maxBytes, timeout: .seconds(3))
        else {
            close(descriptor)
            throw .noDaemon("the daemon at \(endpoint.paths.socket) did not answer its hello")
        }
        let welcome: DaemonWelcome
        do {
            welcome = try DaemonWelcome(decoding: line)
        } catch {
            close(descriptor)
            throw .refused(error.description)
        }
        guard welcome.fingerprint == fingerprint else {
            close(descriptor)
            throw .unusable("the daemon at \(endpoint.paths.socket) is build \(welcome.fingerprint), not \(fingerprint)")
        }
        return descriptor
    }
}

/// Why no daemon connection could be made.
package enum ConnectFailure: Error, CustomStringConvertible {
    /// Nobody answers (yet): worth waiting for, or starting one.
    case noDaemon(String)
    /// The daemon answered and refused this session (a bad setting, a locked state file).
    case refused(String)
    /// Something is there that must not be used: another user's, another build's, an
    /// insecure directory.
    case unusable(String)

    package var description: String {
        switch self {
        case .noDaemon(let reason), .unusable(let reason): return reason
        case .refused(let reason): return "the daemon refused the session: \(reason)"
        }
    }
}

extension RemoteEndpoint {
    /// Reads `auto`, `unix:PATH` or `off`: `nil` for `off` (serve in this process).
    /// `auto` uses the default socket of this build (see `DaemonPaths.defaultPaths`).
    package static func parse(_ text: String, fingerprint: String, environment: (String) -> String?) throws(RemoteSpecError) -> RemoteEndpoint? {
        switch text {
        case "off", "": return nil
        case "auto": return RemoteEndpoint(paths: .defaultPaths(fingerprint: fingerprint, environment: environment), autoStart: true)
        default:
            guard text.hasPrefix("unix:"), text.count > 5 else { throw RemoteSpecError(text: text) }
            return RemoteEndpoint(paths: DaemonPaths(socket: String(text.dropFirst(5))), autoStart: false)
        }
    }
}

/// A `--remote` value that is none of `auto`, `unix:PATH` and `off`.
package struct RemoteSpecError: Error, CustomStringConvertible {
    package var text: String
    package init(text: String) { self.text = text }
    package var description: String { "--remote must be auto, unix:PATH or off, not '\(text)'" }
}
