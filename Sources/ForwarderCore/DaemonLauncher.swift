import DaemonWire
import Locking
import Logging
import SecureFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts the daemon for `auto`, so that forwarders starting at the same instant start
/// exactly one: the start lock serialises them, and each looks for a live daemon again
/// once it holds the lock.
///
/// The daemon is the full server binary (`hyperstack-rpc daemon --listen …`) in a session
/// of its own (`setsid`), with /dev/null for stdio (it logs to its own file) and an
/// environment stripped of every credential: the API key and the access token reach it over
/// the socket only.
package enum DaemonLauncher {
    /// Variables the daemon inherits; everything else (the API key and the token first) is left behind.
    /// The sanitizers' and the crash reporter's settings pass, so a debugging run reaches it.
    static let inheritedVariables = [
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "XDG_RUNTIME_DIR",
        "HYPERSTACK_RPC_TEST_METHODS", "SWIFT_BACKTRACE", "TSAN_OPTIONS", "ASAN_OPTIONS", "LSAN_OPTIONS",
    ]

    /// Makes sure a daemon is starting or running at `paths` by `deadline`. `isRunning`
    /// says whether one answers now.
    static func start(
        _ paths: DaemonPaths, executable: String, deadline: ContinuousClock.Instant, logger: Logger,
        isRunning: () throws(ConnectFailure) -> Bool
    ) throws(ConnectFailure) {
        let wait = deadline - ContinuousClock.now
        let lock: ExclusiveFileLock
        do {
            lock = try ExclusiveFileLock(path: paths.startLock, role: "daemon start lock file", wait: max(wait, .zero))
        } catch {
            switch error {
            case .held: throw .noDaemon("another process is starting the daemon and has not finished")
            case .file(let problem): throw .unusable("\(problem)")
            }
        }
        defer { withExtendedLifetime(lock) {} }
        if try isRunning() { return }
        let pid = try spawn(executable, arguments: ["daemon", "--listen", paths.socket], detached: true)
        logger.debug("started the shared daemon", metadata: ["pid": "\(pid)", "socket": "\(paths.socket)"])
        // Holding the lock until the daemon listens is what keeps the next forwarder from
        // starting a second one.
        while ContinuousClock.now < deadline {
            if try isRunning() { return }
            usleep(5_000)
        }
        throw .noDaemon("the daemon did not start listening in time; see \(paths.log)")
    }

    /// The path of the running executable (`/proc/self/exe`): the full server, when it is the caller.
    package static func ownExecutable() -> String? {
        var executable = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &executable, executable.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: executable[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts `executable` with `arguments` and the scrubbed environment, stdin and stdout on
    /// /dev/null. `detached`: in a session of its own with stderr on /dev/null (the daemon);
    /// otherwise stderr is ours and `sessionDescriptor` becomes its fd 3 (a private session).
    /// A thread reaps it.
    package static func spawn(
        _ executable: String, arguments: [String], detached: Bool, sessionDescriptor: Int32? = nil
    ) throws(ConnectFailure) -> pid_t {
        let arguments = [executable] + arguments
        let environment = inheritedVariables.compactMap { name in getenv(name).map { "\(name)=\(String(cString: $0))" } }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (0x80, glibc): the daemon leaves our session and terminal.
        let newSession: Int32 = detached ? 0x80 : 0
        posix_spawnattr_setflags(&attributes, Int16(newSession | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in 0...(detached ? 2 : 1) {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // dup2 clears close-on-exec on the copy, so only fd 3 reaches the child.
        if let sessionDescriptor { posix_spawn_file_actions_adddup2(&actions, sessionDescriptor, 3) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, &argv, &envp)
        guard result == 0 else {
            throw .unusable("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        reap(pid)
        return pid
    }

    /// Waits for the child in the background, so that when it exits while we live it does
    /// not linger as a zombie.
    private static func reap(_ pid: pid_t) {
        DetachedThread.start(name: "hs-rpc reap") {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }
}
