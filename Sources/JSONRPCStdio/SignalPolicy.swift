import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What each signal does to a serving process, so that none of them kills it with
/// answers in flight:
/// - SIGTERM, SIGINT, SIGHUP: drain (in-flight requests finish, output is flushed, exit 0).
///   SIGHUP is what a closing terminal or a stopping editor session sends.
/// - SIGUSR1: one status line in the log (version, uptime, framing, output backlog; never
///   a key or a secret), then carry on.
/// - SIGUSR2: ignored.
/// - SIGPIPE: ignored by `StandardStreams`, so a dead reader is EPIPE, a clean exit.
package enum SignalPolicy {
    package static let draining: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    /// Installs the policy. Keep the returned sources alive for as long as it should hold.
    package static func install(
        onDrain: @escaping @Sendable (Int32) -> Void, onStatus: @escaping @Sendable () -> Void
    ) -> [any DispatchSourceSignal] {
        signal(SIGUSR2, SIG_IGN)
        let drains = draining.map { number in source(number) { onDrain(number) } }
        return drains + [source(SIGUSR1, onStatus)]
    }

    private static func source(_ number: Int32, _ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}
