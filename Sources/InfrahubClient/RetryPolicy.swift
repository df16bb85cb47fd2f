import InfrahubWire

/// Decides whether a failed attempt is repeated and how long to wait first.
///
/// The rules come from what each call can survive being sent twice: reads, updates and
/// deletes are idempotent, but a repeated generate may create a second key, so generate
/// is repeated only when the first attempt provably never reached the server.
struct RetryPolicy: Sendable {
    /// How safe a call is to send again.
    enum CallKind: Sendable, Equatable {
        /// GET, PUT and DELETE: sending twice has the same effect as once.
        case idempotent
        /// POST /api-key/generate: sending twice may create two keys.
        case generate
    }

    /// What one attempt produced.
    enum Outcome: Sendable, Equatable {
        case transportFailure(TransportFailure)
        case response(status: Int)
    }

    var maxAttempts: Int
    var initialBackoff: Duration
    var maxBackoff: Duration

    init(maxAttempts: Int, initialBackoff: Duration, maxBackoff: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(.zero, initialBackoff)
        self.maxBackoff = max(.zero, maxBackoff)
    }

    init(_ configuration: InfrahubClientConfiguration) {
        self.init(
            maxAttempts: configuration.maxAttempts,
            initialBackoff: configuration.initialBackoff,
            maxBackoff: configuration.maxBackoff)
    }

    /// Whether the outcome of attempt number `attempt` (1-based) should be followed by another.
    func shouldRetry(_ kind: CallKind, after outcome: Outcome, attempt: Int) -> Bool {
        guard attempt < maxAttempts else { return false }
        return Self.isRetryable(kind, outcome)
    }

    /// Whether this outcome is worth repeating at all, ignoring the attempt budget.
    static func isRetryable(_ kind: CallKind, _ outcome: Outcome) -> Bool {
        switch (kind, outcome) {
        case (.idempotent, .transportFailure(let failure)):
            // A stalled body, an unusable answer or a request that cannot be sent would only repeat.
            return !failure.isFinal
        case (.idempotent, .response(let status)):
            return status == 429 || (500...599).contains(status)
        case (.generate, .transportFailure(.connectionRefused)):
            return true
        case (.generate, .transportFailure):
            // Timed out or lost: the key may exist already.
            return false
        case (.generate, .response(let status)):
            // A 5xx may come after the key was stored; only a rate-limit answer proves nothing happened.
            return status == 429
        }
    }

    /// The wait before retry number `retry` (1 for the first retry).
    ///
    /// Exponential from `initialBackoff`, scaled by `jitter` (0...1) into its upper half so
    /// that clients started together spread out; a `Retry-After` from the server is a floor;
    /// everything is capped at `maxBackoff`.
    func delay(beforeRetry retry: Int, retryAfter: Duration?, jitter: Double) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        var base = initialBackoff * (1 << exponent)
        if base > maxBackoff || base < .zero { base = maxBackoff }
        let clampedJitter = min(max(jitter, 0), 1)
        var wait = base * (0.5 + 0.5 * clampedJitter)
        if let retryAfter, retryAfter > wait { wait = retryAfter }
        return min(wait, maxBackoff)
    }
}
