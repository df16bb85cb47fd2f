/// A session's subscription to a key store's changes: cancel it when the session stops.
///
/// The store holds the receiver, and so whatever it captures (typically the session's
/// connection), only until `cancel()`, so a stopped session leaves no cycle behind and
/// needs no weak reference. Releasing the last reference to the token cancels it too.
package final class KeyChangeSubscription: Sendable {
    private let id: UInt64
    private let subscribers: KeyChangeSubscribers

    init(id: UInt64, subscribers: KeyChangeSubscribers) {
        self.id = id
        self.subscribers = subscribers
    }

    /// Stops delivery; a change already being published may still arrive once. Idempotent.
    package func cancel() {
        subscribers.remove(id)
    }

    deinit {
        subscribers.remove(id)
    }
}
