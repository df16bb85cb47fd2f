/// One API key as the Infrahub API lists it, with the secret already masked upstream.
public struct APIKeyRecord: Sendable, Equatable, Hashable {
    public var id: Int64
    public var name: String
    public var description: String?
    /// RFC 3339 in UTC (`2026-05-06T15:18:42Z`), normalised from whatever upstream sent.
    public var createdAt: String?
    /// The masked form, e.g. `********-****-****-****-********be9a`.
    public var maskedKey: String?

    public init(id: Int64, name: String, description: String? = nil, createdAt: String? = nil, maskedKey: String? = nil) {
        self.id = id
        self.name = name
        self.description = description
        self.createdAt = createdAt
        self.maskedKey = maskedKey
    }
}

/// A secret that must never be logged: its descriptions are redacted.
///
/// Used both for the API key we authenticate with and for secrets that generate returns.
public struct SecretString: Sendable, Equatable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The raw secret. Read it only to put it on the wire or hand it to the caller.
    public let revealed: String

    public init(_ revealed: String) { self.revealed = revealed }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// The result of generating a key: the record plus its secret, shown this one time.
public struct GeneratedAPIKey: Sendable, Equatable {
    public var record: APIKeyRecord
    public var secret: SecretString

    public init(record: APIKeyRecord, secret: SecretString) {
        self.record = record
        self.secret = secret
    }
}
