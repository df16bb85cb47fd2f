import APIKeyStore
import InfrahubClient
import JanssonJSON

/// The protocol's JSON shapes for keys and changes. The secret is added only by
/// the generate result, never here, so no other message can carry one.
package enum APIKeyEncoding {
    /// `{id, name, description, createdAt, maskedKey}`.
    package static func json(_ record: APIKeyRecord) -> JSON {
        [
            "id": .int(record.id),
            "name": .string(record.name),
            "description": .string(orNull: record.description),
            "createdAt": .string(orNull: record.createdAt),
            "maskedKey": .string(orNull: record.maskedKey),
        ]
    }

    /// The params of `apiKeys.didChange`.
    package static func json(_ change: KeyChange) -> JSON {
        [
            "revision": .int(change.revision),
            "cause": .string(change.cause.rawValue),
            "added": .array(change.added.map(json)),
            "updated": .array(change.updated.map(json)),
            "removed": .array(change.removed.map { .int($0) }),
        ]
    }
}
