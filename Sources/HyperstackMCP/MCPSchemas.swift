import JanssonJSON

/// The JSON Schemas of the tools' arguments and results, written out in full (no `$ref`), so
/// any client can check a call before sending it and a result after.
enum MCPSchemas {
    /// `{id, name, description, createdAt, maskedKey}`, plus `secret` when it may be inline.
    static func apiKey(withSecret: Bool = false) -> JSON {
        var properties: JSONObject = [
            "id": ["type": "integer", "description": "The key's id, for update_api_key and delete_api_key."],
            "name": ["type": "string"],
            "description": ["type": ["string", "null"]],
            "createdAt": ["type": ["string", "null"], "description": "RFC 3339, UTC."],
            "maskedKey": ["type": ["string", "null"], "description": "The key with all but its last characters hidden."],
        ]
        if withSecret {
            properties["secret"] = [
                "type": "string",
                "description": "The key itself, returned only because the server runs with --mcp-inline-secrets.",
            ]
        }
        return [
            "type": "object",
            "properties": .object(properties),
            "required": ["id", "name", "description", "createdAt", "maskedKey"],
            "additionalProperties": false,
        ]
    }

    static let keyName: JSON = [
        "type": "string", "minLength": 1, "maxLength": 200, "description": "1 to 200 characters.",
    ]
    static let keyID: JSON = ["type": "integer", "description": "The key's id, as list_api_keys shows it."]
    static let revision: JSON = [
        "type": "integer", "description": "Bumps with every change to the key set; a result's matches its notifications.",
    ]

    static func object(_ properties: JSONObject, required: [String], closed: Bool) -> JSON {
        var schema: JSONObject = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        if closed { schema["additionalProperties"] = false }
        return .object(schema)
    }

    // MARK: - Arguments

    static let listInput = object(
        ["refresh": ["type": "boolean", "description": "Ask Hyperstack now instead of answering from the server's short-lived cache."]],
        required: [], closed: true)

    static let generateInput = object(
        [
            "name": keyName,
            "description": ["type": ["string", "null"]],
            "secretFile": [
                "type": "string", "minLength": 1,
                "description":
                    "Where to write the new key's secret: a new file (mode 0600, never overwritten). Relative names go into the server's secrets directory; absolute paths must lie under it or a directory the server allows. Default: a file named after the key's id in the secrets directory.",
            ],
        ],
        required: ["name"], closed: true)

    static let updateInput = object(
        [
            "id": keyID,
            "name": keyName,
            "description": [
                "type": ["string", "null"], "description": "Absent keeps the description, null clears it.",
            ],
        ],
        required: ["id", "name"], closed: true)

    static let deleteInput = object(["id": keyID], required: ["id"], closed: true)

    // MARK: - Results

    static let listOutput = object(
        [
            "keys": ["type": "array", "items": apiKey()],
            "revision": revision,
            "fetchedAt": ["type": "string", "description": "When Hyperstack was last asked, RFC 3339, UTC."],
            "fromCache": ["type": "boolean"],
        ],
        required: ["keys", "revision", "fetchedAt", "fromCache"], closed: false)

    static func generateOutput(inlineSecrets: Bool) -> JSON {
        object(
            [
                "key": apiKey(withSecret: inlineSecrets),
                "revision": revision,
                "secretFile": ["type": "string", "description": "The file holding the secret. Pass the path on; do not read it."],
            ],
            required: inlineSecrets ? ["key", "revision"] : ["key", "revision", "secretFile"], closed: false)
    }

    static let updateOutput = object(["key": apiKey(), "revision": revision], required: ["key", "revision"], closed: false)

    static let deleteOutput = object(
        [
            "id": keyID,
            "deleted": [
                "type": "boolean",
                "description":
                    "Present, and false, only when the user, asked to confirm, chose to keep the key: it still exists. Absent when the key was deleted.",
            ],
            "revision": revision,
            "confirmation": [
                "type": "string", "enum": ["declined", "cancelled", "unconfirmed"],
                "description": "Why the key was kept: present only when deleted is false.",
            ],
            "message": ["type": "string", "description": "What happened, for the user, when deleted is false."],
        ],
        required: ["id", "revision"], closed: false)
}
