import Credentials

/// One API key as the Infrahub API lists it, with the secret already masked upstream.
package struct APIKeyRecord: Sendable, Equatable, Hashable {
    package var id: Int64
    package var name: String
    package var description: String?
    /// RFC 3339 in UTC (`2026-05-06T15:18:42Z`), normalised from whatever upstream sent.
    package var createdAt: String?
    /// The masked form, e.g. `********-****-****-****-********be9a`.
    package var maskedKey: String?

    package init(id: Int64, name: String, description: String? = nil, createdAt: String? = nil, maskedKey: String? = nil) {
        self.id = id
        self.name = name
        self.description = description
        self.createdAt = createdAt
        self.maskedKey = maskedKey
    }
}

/// The result of generating a key: the record plus its secret, shown this one time.
package struct GeneratedAPIKey: Sendable, Equatable {
    package var record: APIKeyRecord
    package var secret: SecretString

    package init(record: APIKeyRecord, secret: SecretString) {
        self.record = record
        self.secret = secret
    }
}
