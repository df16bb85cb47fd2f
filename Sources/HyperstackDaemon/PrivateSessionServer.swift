import DaemonWire
import HyperstackRPCHost
import JSONRPCStdio
import Logging
import UnixSockets

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One session on one connection, for one forwarder alone: where a forwarder goes when no
/// daemon can be reached again. It reads the hello and answers as the daemon does, so the
/// forwarder greets and replays into it exactly as into a new daemon, and it ends with the
/// session. The thin forwarder starts it as a child (`hyperstack-rpc daemon session --fd 3`);
/// the full binary runs it in its own process (`InProcessSession`).
package enum PrivateSessionServer {
    /// Serves the session on `descriptor`, then closes it.
    package static func serve(descriptor: Int32, fingerprint: String, logger: Logger) async {
        guard let (line, rest) = DescriptorIO.readLine(descriptor, limit: DaemonHello.maxBytes, timeout: .seconds(5)) else {
            logger.error("The forwarder sent no usable hello within 5 s")
            close(descriptor)
            return
        }
        let session: SessionHello
        do {
            let hello = try DaemonHello(decoding: line)
            guard hello.fingerprint == fingerprint else {
                throw DaemonWireError("this server is build \(fingerprint), the caller is build \(hello.fingerprint)")
            }
            guard hello.kind == .session, let settings = hello.session, rest.isEmpty else {
                throw DaemonWireError("a private session takes one session hello, then waits for the welcome")
            }
            session = settings
        } catch {
            refuse(descriptor, "\(error)", logger: logger)
            return
        }
        let registry = StoreRegistry(logger: logger, stateLockWait: .seconds(3))
        let server: HyperstackServer
        do {
            server = try registry.attach(session).server
        } catch {
            refuse(descriptor, "\(error)", logger: logger)
            return
        }
        guard DescriptorIO.writeAll(descriptor, DaemonWelcome(fingerprint: fingerprint, pid: getpid()).encoded()) else {
            close(descriptor)
            await registry.shutdown()
            return
        }
        await DaemonSession.run(descriptor: descriptor, server: server, hello: session, termination: Termination(), logger: logger)
        await registry.shutdown()
    }

    private static func refuse(_ descriptor: Int32, _ reason: String, logger: Logger) {
        logger.warning("Refused the private session: \(reason)")
        DescriptorIO.writeAll(descriptor, DaemonWelcome.refusal(reason))
        close(descriptor)
    }
}
