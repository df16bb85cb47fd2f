/// A wait the client is about to make before sending a request (again), as the callers it holds
/// up may be told of it: an MCP client's progress bar, say. It holds numbers, a status code and
/// a fixed phrase, never a header, a body or anything else that could carry a secret.
package struct UpstreamWait: Sendable, Equatable {
    package enum Cause: Sendable, Equatable {
        /// Upstream answered 429: its per-address rate limit.
        case rateLimited
        /// Upstream answered with this 5xx status.
        case unavailable(status: Int)
        /// The attempt got no usable answer (timed out, refused, cut off).
        case noAnswer
        /// Another request of this process was answered 429, so every request waits out the pause.
        case sharedPause
        /// This process's own per-minute budget (`requestsPerMinute`) is spent for now.
        case requestBudget
    }

    package var cause: Cause
    package var delay: Duration
    /// The attempt the wait comes before (2 for the first retry) and the most there will be;
    /// `nil` for a wait before a call's first attempt could be sent.
    package var attempt: (next: Int, of: Int)?

    package init(cause: Cause, delay: Duration, attempt: (next: Int, of: Int)? = nil) {
        self.cause = cause
        self.delay = delay
        self.attempt = attempt
    }

    /// "Hyperstack rate limit: retrying in 2.0 s (attempt 2 of 4)".
    package var message: String {
        let seconds = Self.tenths(delay)
        let retrying = "retrying in \(seconds) s" + (attempt.map { " (attempt \($0.next) of \($0.of))" } ?? "")
        switch cause {
        case .rateLimited: return "Hyperstack rate limit: \(retrying)"
        case .unavailable(let status): return "Hyperstack unavailable (HTTP \(status)): \(retrying)"
        case .noAnswer: return "Hyperstack did not answer: \(retrying)"
        case .sharedPause: return "Hyperstack rate limit: waiting \(seconds) s before sending"
        case .requestBudget: return "Hyperstack rate limit: waiting \(seconds) s for this server's request budget"
        }
    }

    package static func == (lhs: UpstreamWait, rhs: UpstreamWait) -> Bool {
        lhs.cause == rhs.cause && lhs.delay == rhs.delay && lhs.attempt?.next == rhs.attempt?.next
            && lhs.attempt?.of == rhs.attempt?.of
    }

    /// "2.0", "0.3": one decimal, without Foundation's formatting.
    private static func tenths(_ duration: Duration) -> String {
        let tenths = max(0, Int64((duration.secondsValue * 10).rounded()))
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// Who hears of the waits made on behalf of the current task: a task-local, so the code between
/// a caller and the retry loop (the key store, its shared listing) needs no parameter for it.
/// Set it with `UpstreamWaitReporting.$observer.withValue(...)`. The observer is called on the
/// waiting task just before it sleeps, so it must not block.
package enum UpstreamWaitReporting {
    @TaskLocal package static var observer: UpstreamWaitObserver?

    static func report(_ wait: UpstreamWait) {
        observer?.hear(wait)
    }
}

/// An observer of upstream waits, boxed in a class: a task-local of optional function type
/// crashed the optimised build (null type metadata in `swift_task_localValuePush`, Swift 6.3.1).
package final class UpstreamWaitObserver: Sendable {
    package let hear: @Sendable (UpstreamWait) -> Void

    package init(_ hear: @escaping @Sendable (UpstreamWait) -> Void) {
        self.hear = hear
    }
}
