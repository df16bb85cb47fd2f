/// The mutable part of a connection, guarded by its mutex.
struct ConnectionState {
    /// Any request seen; `initialize` is refused after this.
    var receivedRequest = false
    var receivedInitialize = false
    /// `shutdown` seen: later requests are refused and `exit` reports success.
    var shutdownRequested = false
    /// The running `initialize`; work received meanwhile waits for it.
    var initializeGate: Task<Void, Never>?
    var initializeSerial: UInt64?
    /// Requests that may still be cancelled, by id.
    var inFlight: [RequestID: InFlightRequest] = [:]
    /// Every task started for a request or notification, by serial number.
    var running: [UInt64: Task<Void, Never>] = [:]
    var nextSerial: UInt64 = 0
    /// `finishInput` callers waiting for `running` to empty.
    var idleWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
}

/// What `$/cancelRequest` needs to answer a request in its place.
struct InFlightRequest {
    let flag: CancellationFlag
    let serial: UInt64
    let destination: ResponseDestination
}
