import DaemonWire
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
/// The daemon runs this same executable (`/proc/self/exe daemon --listen …`) in a session
/// of its own (`setsid`), with /dev/null for stdio (it logs to its own file) and an
/// environment stripped of every credential: the API key reaches it over the socket only.
enum DaemonLauncher {
    /// Variables the daemon inherits; everything else (the API key first) is left behind.
    /// The sanitizers' and the crash reporter's settings pass, so a debugging run reaches it.
    static let inheritedVariables = [
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "XDG_RUNTIME_DIR",
        "HYPERSTACK_RPC_TEST_METHODS", "SWIFT_BACKTRACE", "TSAN_OPTIONS", "ASAN_OPTIONS", "LSAN_OPTIONS",
    ]

    /// Makes sure a daemon is starting or running at `paths` by `deadline`. `isRunning`
    /// says whether one answers now.
    static func start(
        _ paths: DaemonPaths, deadline: ContinuousClock.Instant, logger: Logger,
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
        let pid = try spawn(paths)
        logger.debug("started the shared daemon", metadata: ["pid": "\(pid)", "socket": "\(paths.socket)"])
        // Holding the lock until the daemon listens is what keeps the next forwarder from
        // starting a second one.
        while ContinuousClock.now < deadline {
            if try isRunning() { return }
            usleep(5_000)
        }
        throw .noDaemon("the daemon did not start listening in time; see \(paths.log)")
    }

    private static func spawn(_ paths: DaemonPaths) throws(ConnectFailure) -> pid_t {
        var executable = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &executable, executable.count - 1)
        guard length > 0 else { throw .unusable("cannot find our own executable to start the daemon") }
        let path = String(decoding: executable[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let arguments = [path, "daemon", "--listen", paths.socket]
        let environment = inheritedVariables.compactMap { name in getenv(name).map { "\(name)=\(String(cString: $0))" } }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (0x80, glibc): the daemon leaves our session and terminal.
        posix_spawnattr_setflags(&attributes, Int16(0x80 | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, &argv, &envp)
        guard result == 0 else {
            throw .unusable("cannot start the daemon: \(String(cString: strerror(result)))")
        }
        reap(pid)
        return pid
    }

    /// Waits for the daemon in the background, so that when it exits while we live it
    /// does not linger as a zombie.
    private static func reap(_ pid: pid_t) {
        var thread = pthread_t()
        let box = UnsafeMutablePointer<pid_t>.allocate(capacity: 1)
        box.initialize(to: pid)
        let created = pthread_create(&thread, nil, { argument in
            let pointer = argument!.assumingMemoryBound(to: pid_t.self)
            let pid = pointer.pointee
            pointer.deallocate()
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return nil
        }, box)
        if created == 0 { pthread_detach(thread) } else { box.deallocate() }
    }
}
