import Credentials
import InfrahubClient

/// Keeps generated secrets out of the cache.
enum SecretMasking {
    /// The record to store for a freshly generated key.
    ///
    /// The cache must only ever hold the masked form; if the record somehow carries no mask, or
    /// one that contains the secret, it gets the mask `GET /api-key` would show, so the next
    /// listing does not report a spurious update.
    static func storableRecord(for generated: GeneratedAPIKey) -> APIKeyRecord {
        var record = generated.record
        let secret = generated.secret.revealed
        guard !secret.isEmpty else { return record }
        if let masked = record.maskedKey, !masked.contains(secret) { return record }
        record.maskedKey = APIKeyMasking.mask(generated.secret)
        return record
    }
}
