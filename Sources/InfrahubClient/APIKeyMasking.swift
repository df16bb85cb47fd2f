import Credentials
/// Masks a secret the way Infrahub's list endpoint does, so a freshly generated key
/// shows the same `maskedKey` it will have in every later listing.
package enum APIKeyMasking {
    /// The fixed part of upstream's mask, shaped like a UUID.
    package static let maskPrefix = "********-****-****-****-********"

    /// `********-****-****-****-********` followed by the secret's last four characters.
    ///
    /// Secrets shorter than 12 characters get no visible suffix: four characters of a
    /// short secret would give too much of it away.
    package static func mask(_ secret: SecretString) -> String {
        let characters = Array(secret.revealed)
        guard characters.count >= 12 else { return maskPrefix }
        return maskPrefix + String(characters.suffix(4))
    }

    /// What to show for a `key` that upstream promises is masked (list and update answers).
    ///
    /// It is kept when it looks like a mask: at least one `*`, and nothing but `*` and `-`
    /// before its last four characters. Anything else is taken for a secret upstream sent by
    /// mistake and masked here, so that it reaches neither a client nor the cache.
    package static func maskedForm(ofUpstreamKey key: String) -> String {
        let characters = Array(key)
        let hidden = characters.dropLast(4)
        if hidden.contains("*"), hidden.allSatisfy({ $0 == "*" || $0 == "-" }) { return key }
        return mask(SecretString(key))
    }
}
