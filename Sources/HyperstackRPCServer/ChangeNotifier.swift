import APIKeyStore
import JanssonJSON
import Synchronization

/// Turns key-set changes into `apiKeys.didChange` notifications.
///
/// The key store exists before the connection that carries its notifications, so the
/// sending function is attached later. The store calls `publish` synchronously while
/// applying a change, before the mutation's response exists, which is what puts each
/// notification ahead of the response that shares its revision.
public final class ChangeNotifier: Sendable {
    public typealias Send = @Sendable (_ method: String, _ params: JSON) -> Void

    private let send = Mutex<Send?>(nil)

    public init() {}

    /// Attaches the function that enqueues a notification frame.
    public func connect(_ send: @escaping Send) {
        self.send.withLock { $0 = send }
    }

    /// Sends `apiKeys.didChange` for `change`. Changes before `connect` have no one to tell.
    public func publish(_ change: KeyChange) {
        guard let send = send.withLock({ $0 }) else { return }
        send("apiKeys.didChange", APIKeyEncoding.json(change))
    }
}
