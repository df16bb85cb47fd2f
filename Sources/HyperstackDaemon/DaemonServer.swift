import DaemonWire
import Foundation
import HyperstackRPCHost
import InfrahubClient
import InfrahubWire
import JSONRPCStdio
import JanssonJSON
import Locking
import Logging
import Synchronization
import SecureFiles
import UnixSockets

/// The per-user daemon: one listening socket, any number of forwarders' sessions over the
/// shared stores (`StoreRegistry`), and the control requests `status` and `stop`.
///
/// Start-up refuses what gopls users tripped over: the socket directory must be ours and
/// private (`PrivateDirectory`), a second daemon on the same socket is refused by a lock it
/// holds for life (so a stale socket file can be replaced safely), and every connection's
/// peer uid is checked. It stops on SIGTERM/SIGINT/SIGHUP or `daemon stop`, draining every
/// session, and on its own after `idleTimeout` without connections.
package final class DaemonServer: Sendable {
    private let paths: DaemonPaths
    private let idleTimeout: Duration?
    private let fingerprint: String
    private let version: String
    private let logger: Logger
    private let registry: StoreRegistry
    private let connections = Lock(Connections())
    private let stop = DaemonStop()
    private let startedAt = Date()

    /// - Parameter idleTimeout: how long to wait with no connection before exiting; `nil` never.
    package init(paths: DaemonPaths, idleTimeout: Duration?, fingerprint: String, version: String, logger: Logger) {
        self.paths = paths
        self.idleTimeout = idleTimeout
        self.fingerprint = fingerprint
        self.version = version
        self.logger = logger
        registry = StoreRegistry(logger: logger)
    }

    /// Takes the daemon's lock, listens (or adopts systemd's socket), serves until told to
    /// stop, drains, and returns the exit status.
    package func run(activatedListener: Int32?) async throws(DaemonSetupError) -> Int32 {
        let lock: ExclusiveFileLock
        let listener: Int32
        do {
            try PrivateDirectory.prepare(paths.directory, role: "daemon socket directory")
            lock = try ExclusiveFileLock(path: paths.daemonLock, role: "daemon lock file")
            if let activatedListener {
                listener = activatedListener
            } else {
                // We hold the lock, so no live daemon serves here: whatever is left is stale.
                unlink(paths.socket)
                listener = try UnixSocket.listen(path: paths.socket)
            }
        } catch let error as SecureFileError {
            throw DaemonSetupError(description: "\(error)")
        } catch ExclusiveFileLock.Failure.held {
            throw DaemonSetupError(description: "a daemon already serves \(paths.socket)")
        } catch ExclusiveFileLock.Failure.file(let error) {
            throw DaemonSetupError(description: "\(error)")
        } catch {
            throw DaemonSetupError(description: "\(error)")
        }
        signal(SIGPIPE, SIG_IGN)
        let stop = stop
        let signals = SignalPolicy.install(
            onDrain: { stop.request("signal \($0)") },
            onStatus: { [self] in logger.notice("\(statusLine())") })
        DetachedThread.start(name: "hs-rpc accept") { [self] in acceptLoop(listener) }
        logger.info(
            "hyperstack-rpc \(version) daemon serving",
            metadata: ["socket": "\(paths.socket)", "pid": "\(getpid())", "fingerprint": "\(fingerprint)"])
        connectionsChanged()

        let reason = await stop.firstReason()
        logger.notice("stopping (\(reason)); draining every session")
        _ = Glibc.shutdown(listener, Int32(SHUT_RDWR))
        if activatedListener == nil { unlink(paths.socket) }
        let sessions = connections.withLock { Array($0.sessions.values) }
        for session in sessions { session.request(.signal(SIGTERM)) }
        await waitForSessions(deadline: ContinuousClock.now + ConnectionService.drainTimeout + .seconds(7))
        await registry.shutdown()
        logger.info("daemon stopped")
        withExtendedLifetime((lock, signals)) {}
        return 0
    }

    // MARK: Connections

    private func acceptLoop(_ listener: Int32) {
        while let descriptor = UnixSocket.accept(listener) {
            guard let peer = UnixSocket.peer(of: descriptor), peer.uid == geteuid() else {
                let who = UnixSocket.peer(of: descriptor).map { "uid \($0.uid), pid \($0.pid)" } ?? "an unknown peer"
                logger.warning("Refused a connection from \(who): only the daemon's own user may connect")
                close(descriptor)
                continue
            }
            connections.withLock { connections in
                connections.open += 1
                connections.idleTimer?.cancel()
                connections.idleTimer = nil
            }
            DetachedThread.start(name: "hs-rpc hello") { [self] in greet(descriptor) }
        }
    }

    /// Reads the hello and hands the connection to what it asks for.
    private func greet(_ descriptor: Int32) {
        guard let (line, rest) = DescriptorIO.readLine(descriptor, limit: DaemonHello.maxBytes, timeout: .seconds(5)) else {
            // Forwarders checking that the daemon listens connect and close without a hello.
            logger.debug("A connection ended, or sent no usable hello within 5 s; closed")
            finishConnection(descriptor)
            return
        }
        let hello: DaemonHello
        do {
            hello = try DaemonHello(decoding: line)
        } catch {
            refuse(descriptor, "\(error)")
            return
        }
        // Sessions need the same build on both ends; `status` and `stop` do not, so a newer
        // binary can still inspect and stop the daemon an older one started.
        guard hello.fingerprint == fingerprint || hello.kind != .session else {
            refuse(descriptor, "this daemon is build \(fingerprint), the caller is build \(hello.fingerprint)")
            return
        }
        switch hello.kind {
        case .status:
            Task {
                DescriptorIO.writeAll(descriptor, DaemonLine.encode(await statusJSON()))
                finishConnection(descriptor)
            }
        case .stop:
            DescriptorIO.writeAll(descriptor, DaemonWelcome(fingerprint: fingerprint, pid: getpid()).encoded())
            finishConnection(descriptor)
            stop.request("daemon stop")
        case .session:
            guard let session = hello.session, rest.isEmpty else {
                refuse(descriptor, "a session must wait for the welcome before it sends messages")
                return
            }
            startSession(descriptor, session)
        }
    }

    private func startSession(_ descriptor: Int32, _ hello: SessionHello) {
        let attached: (server: HyperstackServer, key: StoreRegistry.Key)
        do {
            attached = try registry.attach(hello)
        } catch {
            refuse(descriptor, "\(error)")
            return
        }
        guard DescriptorIO.writeAll(descriptor, DaemonWelcome(fingerprint: fingerprint, pid: getpid()).encoded()) else {
            registry.detach(attached.key)
            finishConnection(descriptor)
            return
        }
        let termination = Termination()
        let id = connections.withLock { connections in
            connections.nextID += 1
            connections.sessions[connections.nextID] = termination
            return connections.nextID
        }
        logger.debug("session opened", metadata: ["session": "\(id)", "upstream": "\(attached.key.upstream)"])
        Task { [self] in
            await DaemonSession.run(
                descriptor: descriptor, server: attached.server, hello: hello, termination: termination,
                logger: logger.with(session: id))
            registry.detach(attached.key)
            connections.withLock { _ = $0.sessions.removeValue(forKey: id) }
            logger.debug("session closed", metadata: ["session": "\(id)"])
            closed()
        }
    }

    private func refuse(_ descriptor: Int32, _ reason: String) {
        logger.warning("Refused a connection: \(reason)")
        DescriptorIO.writeAll(descriptor, DaemonWelcome.refusal(reason))
        finishConnection(descriptor)
    }

    private func finishConnection(_ descriptor: Int32) {
        close(descriptor)
        closed()
    }

    private func closed() {
        connections.withLock { $0.open -= 1 }
        connectionsChanged()
    }

    /// With no connection left, arms the idle timer (replacing an armed one); a new
    /// connection makes it find the daemon busy when it fires.
    private func connectionsChanged() {
        guard let idleTimeout else { return }
        let stop = stop
        connections.withLock { connections in
            guard connections.open == 0 else { return }
            connections.idleGeneration += 1
            let generation = connections.idleGeneration
            connections.idleTimer?.cancel()
            connections.idleTimer = Task { [self] in
                do { try await Task.sleep(for: idleTimeout) } catch { return }
                let stillIdle = self.connections.withLock { $0.open == 0 && $0.idleGeneration == generation }
                if stillIdle { stop.request("idle for \(idleTimeout)") }
            }
        }
    }

    private func waitForSessions(deadline: ContinuousClock.Instant) async {
        while connections.withLock({ !$0.sessions.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Status

    private func statusJSON() async -> JSON {
        let stores = await registry.storeStatus()
        let budget = registry.budget()
        let sessions = connections.withLock { $0.sessions.count }
        return [
            "pid": .int(Int64(getpid())),
            "version": .string(version),
            "fingerprint": .string(fingerprint),
            "socket": .string(paths.socket),
            "startedAt": .string(InfrahubTimestamp.format(secondsSinceEpoch: Int64(startedAt.timeIntervalSince1970))),
            "sessions": .int(Int64(sessions)),
            "stores": .array(
                stores.map { store in
                    [
                        "upstream": .string(store.upstream), "keyFingerprint": .string(orNull: store.keyFingerprint),
                        "accessTokenFingerprint": .string(orNull: store.accessTokenFingerprint),
                        "revision": .int(store.revision), "keys": .int(Int64(store.keys)),
                        "pollInterval": store.pollInterval.map(JSON.double) ?? .null,
                        "sessions": .int(Int64(store.sessions)),
                    ]
                }),
            "upstreamRequests": .int(Int64(budget.total)),
            "rateBudget": ["limit": .int(Int64(budget.limit)), "usedLastMinute": .int(Int64(budget.usedLastMinute))],
            "log": .string(paths.log),
        ]
    }

    private func statusLine() -> String {
        let (open, sessions) = connections.withLock { ($0.open, $0.sessions.count) }
        return "hyperstack-rpc \(version) daemon, pid \(getpid()), \(sessions) sessions, \(open) connections, socket \(paths.socket)"
    }
}

/// Connections by phase: `open` counts every accepted one (a forwarder between connect and
/// hello keeps the daemon from idling out); `sessions` holds the ones serving JSON-RPC.
private struct Connections: Sendable {
    var open = 0
    var nextID: UInt64 = 0
    var sessions: [UInt64: Termination] = [:]
    var idleGeneration: UInt64 = 0
    var idleTimer: Task<Void, Never>?
}

/// The first reason the daemon should stop, from a signal, `daemon stop` or the idle timer.
private final class DaemonStop: Sendable {
    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(4))
    }

    func request(_ reason: String) {
        continuation.yield(reason)
    }

    func firstReason() async -> String {
        for await reason in stream { return reason }
        return "stopped"
    }
}

/// Why the daemon could not start: the message says what to fix.
package struct DaemonSetupError: Error, Sendable, CustomStringConvertible {
    package var description: String
}

extension Logger {
    /// This logger with the session's number in every line.
    fileprivate func with(session id: UInt64) -> Logger {
        var logger = self
        logger[metadataKey: "session"] = "\(id)"
        return logger
    }
}
