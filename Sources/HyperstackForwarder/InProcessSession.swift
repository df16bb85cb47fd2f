import DaemonWire
import HyperstackDaemon
import HyperstackRPCHost
import HyperstackSandbox
import JSONRPCStdio
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The last resort of a forwarder whose daemon is gone and cannot be started again: the
/// same session a daemon would run, over a socket pair, in this process, so the forwarder
/// replays into it exactly as it would into a new daemon.
final class InProcessSession: Sendable {
    /// The forwarder's end of the pair.
    let descriptor: Int32
    private let server: HyperstackServer
    private let stateLock: SandboxStateLock?

    init(settings: Settings, hello: SessionHello, logger: Logger) throws {
        // The dead daemon's lock on the state file went with it; a live one is waited for briefly.
        stateLock = try settings.sandboxState.map { try SandboxStateLock(statePath: $0, wait: .seconds(3)) }
        server = try HyperstackServer(settings: settings, logger: logger)
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw InProcessFailure(description: "cannot create a socket pair (errno \(errno))")
        }
        descriptor = pair[0]
        let server = server
        let theirs = pair[1]
        Task {
            await DaemonSession.run(
                descriptor: theirs, server: server, hello: hello, termination: Termination(), logger: logger)
        }
    }
}

struct InProcessFailure: Error, CustomStringConvertible {
    var description: String
}
