import JanssonJSON

/// The four tools, by the names agents and tests call them.
package enum MCPToolName: String, CaseIterable, Sendable {
    case listAPIKeys = "list_api_keys"
    case generateAPIKey = "generate_api_key"
    case updateAPIKey = "update_api_key"
    case deleteAPIKey = "delete_api_key"

    /// The argument names each tool takes; anything else fails its schema.
    var arguments: Set<String> {
        switch self {
        case .listAPIKeys: ["refresh"]
        case .generateAPIKey: ["name", "description", "secretFile"]
        case .updateAPIKey: ["id", "name", "description"]
        case .deleteAPIKey: ["id"]
        }
    }
}

/// What `tools/list` says about each tool: title, description, schemas and the behaviour
/// hints an agent uses to decide what needs a person's confirmation.
enum MCPToolCatalog {
    /// The `tools/list` result.
    static func listResult(inlineSecrets: Bool) -> JSON {
        ["tools": .array(MCPToolName.allCases.map { tool($0, inlineSecrets: inlineSecrets) })]
    }

    static func tool(_ name: MCPToolName, inlineSecrets: Bool) -> JSON {
        let title: String
        let description: String
        let input: JSON
        let output: JSON
        let hints: (readOnly: Bool, destructive: Bool, idempotent: Bool)
        switch name {
        case .listAPIKeys:
            title = "List API keys"
            description =
                "List the Hyperstack API keys of the account, masked (no secrets), with the key set's revision. Answers from the server's short-lived cache (--cache-ttl, 30 s by default) unless refresh is true."
            input = MCPSchemas.listInput
            output = MCPSchemas.listOutput
            hints = (true, false, true)
        case .generateAPIKey:
            title = "Generate an API key"
            description =
                inlineSecrets
                ? "Create a Hyperstack API key. This server runs with --mcp-inline-secrets, so the secret is returned in the result unless secretFile names a file to write it to."
                : "Create a Hyperstack API key. Its secret is written to a new file (mode 0600) and never returned: the result has the file's path, the masked key and the key's metadata. Pass the path to whoever needs the key; do not read the file into the conversation."
            input = MCPSchemas.generateInput
            output = MCPSchemas.generateOutput(inlineSecrets: inlineSecrets)
            hints = (false, false, false)
        case .updateAPIKey:
            title = "Rename an API key"
            description =
                "Rename a Hyperstack API key and set or clear its description. name is required even when only the description changes; an absent description is kept, null clears it."
            input = MCPSchemas.updateInput
            output = MCPSchemas.updateOutput
            hints = (false, false, true)
        case .deleteAPIKey:
            title = "Delete an API key"
            description =
                "Delete a Hyperstack API key for good. Anything still using it stops working at once. When the client can show forms, the user is asked to confirm first; deleted: false in the result means they chose to keep the key."
            input = MCPSchemas.deleteInput
            output = MCPSchemas.deleteOutput
            hints = (false, true, true)
        }
        return [
            "name": .string(name.rawValue),
            "title": .string(title),
            "description": .string(description),
            "inputSchema": input,
            "outputSchema": output,
            "annotations": [
                "title": .string(title),
                "readOnlyHint": .bool(hints.readOnly),
                "destructiveHint": .bool(hints.destructive),
                "idempotentHint": .bool(hints.idempotent),
                "openWorldHint": false,
            ],
        ]
    }
}
