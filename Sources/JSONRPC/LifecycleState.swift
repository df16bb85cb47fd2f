/// Lifecycle facts. Only the reader thread (inside `receive`) reads or writes them, so
/// their mutex is never contended.
struct LifecycleState {
    /// Any request seen; `initialize` is refused after this.
    var receivedRequest = false
    var receivedInitialize = false
    /// `shutdown` seen: later requests are refused and `exit` reports success.
    var shutdownRequested = false
    /// The running `initialize`; work received meanwhile waits for it. Dropped once the
    /// task reports it is done.
    var initializeGate: Task<Void, Never>?
}
