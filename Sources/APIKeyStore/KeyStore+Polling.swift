import InfrahubClient
import Logging

extension KeyStore {
    /// The background refresh interval in force, or `nil` when not polling.
    package var currentPollInterval: Duration? { pollInterval }

    /// Starts, replaces or (with `nil` or zero) stops background polling.
    ///
    /// Each poll lists upstream, so changes made elsewhere reach the subscribers with cause `refresh`.
    /// The first poll happens one interval from now. Ignored after `shutdown()`.
    package func setPollInterval(_ interval: Duration?) {
        poller?.cancel()
        poller = nil
        pollGeneration += 1
        consecutivePollFailures = 0
        guard !isShutDown, let interval, interval > .zero else {
            pollInterval = nil
            return
        }
        pollInterval = interval
        poller = Self.makePoller(for: self, interval: interval, generation: pollGeneration)
    }

    func startConfiguredPoller(interval: Duration) {
        guard pollGeneration == 0, poller == nil, !isShutDown else { return }
        setPollInterval(interval)
    }

    /// Stops polling and waits for the poller to finish (a listing it started may complete first).
    package func shutdown() async {
        isShutDown = true
        pollInterval = nil
        pollGeneration += 1
        let running = poller
        poller = nil
        running?.cancel()
        await running?.value
    }

    /// The poll loop holds the store weakly, so an abandoned store is not kept alive by its poller.
    static func makePoller(for store: KeyStore, interval: Duration, generation: UInt64) -> Task<Void, Never> {
        Task { [weak store] in
            var delay = interval
            while !Task.isCancelled {
                do { try await Task.sleep(for: delay) } catch { return }
                guard let store, let next = await store.pollOnce(interval: interval, generation: generation) else { return }
                delay = next
            }
        }
    }

    /// One background refresh; returns the delay before the next, or `nil` when this poller is retired.
    func pollOnce(interval: Duration, generation: UInt64) async -> Duration? {
        guard generation == pollGeneration, !isShutDown, !Task.isCancelled else { return nil }
        let result = await sharedFetch()
        guard generation == pollGeneration, !isShutDown, !Task.isCancelled else { return nil }
        switch result {
        case .success:
            if consecutivePollFailures > 0 {
                logger.info("Background refresh of API keys works again", metadata: ["failedAttempts": "\(consecutivePollFailures)"])
            }
            consecutivePollFailures = 0
            return interval
        case .failure(let error):
            consecutivePollFailures += 1
            let delay = Self.pollBackoff(interval: interval, failures: consecutivePollFailures, cap: maxPollBackoff)
            var metadata: Logger.Metadata = [
                "failures": "\(consecutivePollFailures)",
                "nextAttemptSeconds": "\(delay.secondsValue)",
            ]
            if let status = error.httpStatus { metadata["httpStatus"] = "\(status)" }
            // InfrahubError messages are written never to hold a secret.
            logger.warning("Background refresh of API keys failed: \(error.message)", metadata: metadata)
            return delay
        }
    }

    /// `interval × 2^failures`, capped at `cap` (but never below the interval itself).
    static func pollBackoff(interval: Duration, failures: Int, cap: Duration) -> Duration {
        let ceiling = max(cap, interval)
        let exponent = min(max(failures, 0), 30)
        let delay = interval * (1 << exponent)
        return min(delay, ceiling)
    }
}
