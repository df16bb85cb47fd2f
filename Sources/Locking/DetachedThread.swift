#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A named OS thread for blocking I/O loops (reading a pipe, writing a backlog, accepting
/// on a socket), which must not sit on the Swift concurrency pool. pthread directly, so the
/// modules the thin forwarder links need no Foundation `Thread`.
package enum DetachedThread {
    /// Runs `body` on a new detached thread named `name` (at most 15 bytes are kept).
    package static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        final class Start {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            nameThisThread(start.name)
            start.body()
            return nil
        }, start)
        precondition(status == 0, "pthread_create failed (\(status))")
        pthread_detach(thread)
    }
}

/// Names the calling thread for `top -H` and debuggers. glibc's `pthread_setname_np` is not
/// visible to Swift, so on Linux this writes the name where the kernel keeps it.
private func nameThisThread(_ name: String) {
    let name = Array(name.utf8.prefix(15))
    #if canImport(Darwin)
    _ = pthread_setname_np(String(decoding: name, as: UTF8.self))
    #else
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    _ = name.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    #endif
}

