import ArgumentParser
import DaemonWire
import Foundation
import HyperstackDaemon
import ForwarderCore
import HyperstackForwarder
import HyperstackRPCHost
import HyperstackRPCServer
import JSONRPCStdio
import JanssonJSON
import LogOutput
import Logging
import SecureFiles
import UnixSockets

/// `hyperstack-rpc daemon`: the shared per-user daemon that `--remote auto` forwarders use.
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run, inspect or stop the shared daemon behind --remote auto.",
        discussion: """
            One daemon per user and build holds one key cache, one upstream rate budget and one \
            change stream for every editor window, agent and script that starts hyperstack-rpc with \
            --remote auto (or HYPERSTACK_RPC_REMOTE=auto). Forwarders start it when it is absent.
            Example: hyperstack-rpc daemon status | jq .stores
            """,
        subcommands: [DaemonRunCommand.self, DaemonStatusCommand.self, DaemonStopCommand.self, DaemonSessionCommand.self],
        defaultSubcommand: DaemonRunCommand.self
    )
}

/// `hyperstack-rpc daemon [run] [--listen PATH] [--idle-timeout SECONDS]`.
struct DaemonRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (the default).",
        discussion: """
            Logs go to a 0600 file beside the socket (daemon status shows its path), and so does crash \
            output. SIGTERM, SIGINT and SIGHUP drain every session, then exit 0. Also accepts a socket \
            from systemd (LISTEN_FDS).
            Example: hyperstack-rpc daemon --idle-timeout 0
            """
    )

    @Option(help: ArgumentHelp("Listen on this socket (default: this build's socket under $XDG_RUNTIME_DIR, else $TMPDIR).", valueName: "path"))
    var listen: String?

    @Option(help: ArgumentHelp("Exit after this many seconds with no client (0: never).", valueName: "seconds"))
    var idleTimeout: Double = 300

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard idleTimeout >= 0, idleTimeout.isFinite else { throw ValidationError("--idle-timeout must be zero or more seconds") }
        if let listen, listen.utf8.count > UnixSocket.maxPathBytes {
            throw ValidationError("--listen: a socket path is at most \(UnixSocket.maxPathBytes) bytes")
        }
    }

    func run() async throws {
        let fingerprint = BuildFingerprint.ofThisBuild
        let paths = try listen.map { DaemonPaths(socket: $0) } ?? RemoteChoice.controlPaths(option: nil)
        // Start-up problems go to the terminal that started us, before stderr becomes the log.
        let console = dup(STDERR_FILENO)
        func fail(_ message: String) -> Never {
            _ = OutputDescriptor.writeAll(console, Array("hyperstack-rpc daemon: \(message)\n".utf8))
            Foundation.exit(1)
        }
        do {
            try PrivateDirectory.prepare(paths.directory, role: "daemon socket directory")
            let log = try SecureFile.openForAppending(paths.log, role: "daemon log file")
            dup2(log, STDERR_FILENO)
            close(log)
        } catch {
            fail("\(error)")
        }
        let logger = try LoggingSetup.bootstrap(level: logLevel, file: nil)
        let server = DaemonServer(
            paths: paths, idleTimeout: idleTimeout > 0 ? Duration(optionSeconds: idleTimeout) : nil,
            fingerprint: fingerprint, version: ServerIdentity.version, logger: logger)
        let activated = UnixSocket.activatedListener(environment: Environment.value)
        let status: Int32
        do {
            status = try await server.run(activatedListener: activated)
        } catch {
            logger.error("\(error)")
            fail("\(error)")
        }
        Foundation.exit(status)
    }
}

/// `hyperstack-rpc daemon status`.
struct DaemonStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the daemon's state as one JSON object; exit 3 if none runs.",
        discussion: """
            Fields: pid, version, socket, startedAt, sessions, stores (upstream, keyFingerprint, \
            accessTokenFingerprint, revision, keys, pollInterval, sessions), upstreamRequests, \
            rateBudget (limit, usedLastMinute), log.
            Example: hyperstack-rpc daemon status | jq .rateBudget
            """
    )

    @Option(help: ArgumentHelp("The daemon's socket, as unix:PATH (default: this build's socket).", valueName: "unix:PATH"))
    var remote: String?

    func run() throws {
        let paths = try RemoteChoice.controlPaths(option: remote)
        switch try DaemonControl.status(paths) {
        case .noDaemon:
            StandardError.write("hyperstack-rpc: no daemon runs at \(paths.socket)\n")
            throw ExitCode(3)
        case .answered(let status):
            let failure = OutputDescriptor.writeAll(STDOUT_FILENO, try status.serialized() + [UInt8(ascii: "\n")])
            if failure != 0 { throw ExitCode(1) }
        }
    }
}

/// `hyperstack-rpc daemon stop`.
struct DaemonStopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the daemon gracefully (its sessions drain first); exit 3 if none runs.",
        discussion: "Example: hyperstack-rpc daemon stop --remote unix:$XDG_RUNTIME_DIR/hyperstack-rpc/daemon-<fingerprint>.sock"
    )

    @Option(help: ArgumentHelp("The daemon's socket, as unix:PATH (default: this build's socket).", valueName: "unix:PATH"))
    var remote: String?

    func run() throws {
        let paths = try RemoteChoice.controlPaths(option: remote)
        switch try DaemonControl.stop(paths) {
        case .noDaemon:
            StandardError.write("hyperstack-rpc: no daemon runs at \(paths.socket)\n")
            throw ExitCode(3)
        case .answered(let welcome):
            StandardError.write("hyperstack-rpc: the daemon (pid \(welcome["pid"]?.intValue ?? 0)) has stopped\n")
        }
    }
}

/// `hyperstack-rpc daemon session --fd N`: one private session on an inherited socket, which
/// the thin forwarder starts when no daemon can be reached again (`PrivateSessionServer`).
/// Not for people, so not in the help.
struct DaemonSessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Serve one forwarder's session on an inherited socket (internal).",
        shouldDisplay: false
    )

    @Option(help: ArgumentHelp("The inherited socket's descriptor.", valueName: "fd"))
    var fd: Int32

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        var status = stat()
        guard fd > 2, fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFSOCK else {
            throw ValidationError("--fd must name an inherited socket")
        }
    }

    func run() async throws {
        let logger = try LoggingSetup.bootstrap(level: logLevel, file: nil)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        signal(SIGPIPE, SIG_IGN)
        await PrivateSessionServer.serve(descriptor: fd, fingerprint: BuildFingerprint.ofThisBuild, logger: logger)
    }
}
