import APIKeyStore
import JanssonJSON

/// `apiKeys.didChange`: what a session sends each time the key set changes.
///
/// Every session subscribes to the one key store (`KeyStore.subscribe`) and sends this for each
/// change; the store calls synchronously while applying a change, before the mutation's
/// response exists, which is what puts each notification ahead of the response that shares its
/// revision.
package enum KeyChangeNotification {
    package static let method = "apiKeys.didChange"

    /// The notification's params.
    package static func params(for change: KeyChange) -> JSON {
        APIKeyEncoding.json(change)
    }
}
