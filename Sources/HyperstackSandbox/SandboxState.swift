import JanssonJSON

/// One key the sandbox holds. The secret itself is gone: only its hash (to recognise it
/// in `api_key`) and its last four characters (to mask it in lists) remain.
struct StoredKey: Sendable, Equatable {
    var id: Int64
    var name: String
    var description: String?
    var createdAt: String
    var secretHash: String
    var lastFour: String

    /// The `ApiKeyFields` object with the key masked, as list and update return it.
    var maskedFields: JSON {
        fields(key: SandboxSecret.masked(lastFour: lastFour))
    }

    func fields(key: String) -> JSON {
        ["id": .int(id), "name": .string(name), "description": .string(orNull: description), "key": .string(key), "created_at": .string(createdAt)]
    }
}

/// Everything that survives a restart. `nextID` is kept apart from the keys so that
/// ids are never reused, even after the newest key is deleted or the sandbox is reset.
struct SandboxState: Sendable, Equatable {
    static let formatVersion: Int64 = 1

    var keys: [StoredKey] = []
    var nextID: Int64 = 1

    /// `{"version": 1, "next_id": 3, "keys": [{"id", "name", "description", "created_at",
    /// "secret_sha256", "last4"}]}`
    var json: JSON {
        let keyObjects: [JSON] = keys.map { key in
            [
                "id": .int(key.id), "name": .string(key.name), "description": .string(orNull: key.description),
                "created_at": .string(key.createdAt), "secret_sha256": .string(key.secretHash), "last4": .string(key.lastFour),
            ]
        }
        return ["version": .int(Self.formatVersion), "next_id": .int(nextID), "keys": .array(keyObjects)]
    }

    init() {}

    /// Reads the shape `json` writes; the error says which member is wrong.
    init(json: JSON) throws(StateDecodingError) {
        guard json.objectValue != nil else { throw StateDecodingError("the top level must be an object, got \(json.typeName)") }
        guard let version = json["version"]?.intValue else { throw StateDecodingError("\"version\" is missing or not an integer") }
        guard version == Self.formatVersion else {
            throw StateDecodingError("format version \(version) is not supported (this sandbox reads version \(Self.formatVersion))")
        }
        guard let nextID = json["next_id"]?.intValue, nextID >= 1 else {
            throw StateDecodingError("\"next_id\" is missing or not a positive integer")
        }
        guard let keyValues = json["keys"]?.arrayValue else { throw StateDecodingError("\"keys\" is missing or not an array") }
        var keys: [StoredKey] = []
        for (index, value) in keyValues.enumerated() {
            func member(_ name: String) throws(StateDecodingError) -> String {
                guard let text = value[name]?.stringValue else {
                    throw StateDecodingError("keys[\(index)].\(name) is missing or not a string")
                }
                return text
            }
            guard let id = value["id"]?.intValue, id >= 1, id < nextID else {
                throw StateDecodingError("keys[\(index)].id is missing, not a positive integer, or not below next_id")
            }
            let hash = try member("secret_sha256")
            guard hash.count == 64, hash.allSatisfy({ $0.isHexDigit }) else {
                throw StateDecodingError("keys[\(index)].secret_sha256 is not 64 hex digits")
            }
            keys.append(
                StoredKey(
                    id: id, name: try member("name"), description: try Self.optionalDescription(value, index: index),
                    createdAt: try member("created_at"), secretHash: hash.lowercased(), lastFour: try member("last4")))
        }
        if Set(keys.map(\.id)).count != keys.count { throw StateDecodingError("two keys share an id") }
        self.keys = keys
        self.nextID = nextID
    }

    /// A stored description: a string, or `null` / absent for none.
    private static func optionalDescription(_ value: JSON, index: Int) throws(StateDecodingError) -> String? {
        guard let member = value["description"], !member.isNull else { return nil }
        guard let text = member.stringValue else {
            throw StateDecodingError("keys[\(index)].description is neither a string nor null")
        }
        return text
    }

    struct StateDecodingError: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
