import APIKeyStore
import HyperstackRPCServer
import InfrahubClient
import JSONRPC
import JanssonJSON

/// The key set as MCP resources: `hyperstack://api-keys`, the masked list with its revision,
/// and `hyperstack://api-keys/{id}`, one key. Both are `application/json`, read through the
/// same cache the tools use.
enum MCPResources {
    static let collectionURI = "hyperstack://api-keys"
    static let keyURIPrefix = "hyperstack://api-keys/"
    static let keyURITemplate = "hyperstack://api-keys/{id}"
    static let mimeType = "application/json"
    /// MCP's "resource not found".
    static let resourceNotFound = -32002

    static func keyURI(_ id: Int64) -> String { keyURIPrefix + String(id) }

    /// Which resource `uri` names; `nil` for none of ours.
    enum Target: Equatable {
        case collection
        case key(Int64)

        init?(uri: String) {
            if uri == MCPResources.collectionURI {
                self = .collection
            } else if uri.hasPrefix(MCPResources.keyURIPrefix), let id = Int64(uri.dropFirst(MCPResources.keyURIPrefix.count)) {
                self = .key(id)
            } else {
                return nil
            }
        }
    }

    static let collectionResource: JSON = [
        "uri": .string(collectionURI),
        "name": "api-keys",
        "title": "Hyperstack API keys",
        "description": "Every API key of the account, masked, with the key set's revision.",
        "mimeType": .string(mimeType),
    ]

    static func keyResource(_ key: APIKeyRecord) -> JSON {
        [
            "uri": .string(keyURI(key.id)),
            "name": .string(key.name),
            "title": .string("API key \(key.name)"),
            "description": .string("The API key '\(key.name)' (id \(key.id)), masked."),
            "mimeType": .string(mimeType),
        ]
    }

    /// `resources/list`: the collection and one resource per known key. When upstream cannot
    /// be asked, the collection alone, whose read then says why.
    static func list(store: KeyStore) async -> JSON {
        var resources = [collectionResource]
        if let outcome = try? await cachedOrFetched(store) {
            resources += outcome.snapshot.keys.map(keyResource)
        }
        return ["resources": .array(resources)]
    }

    static let templatesResult: JSON = [
        "resourceTemplates": [
            [
                "uriTemplate": .string(keyURITemplate),
                "name": "api-key",
                "title": "Hyperstack API key",
                "description": "One API key by its id, masked.",
                "mimeType": .string(mimeType),
            ]
        ]
    ]

    /// `resources/read {uri}`.
    static func read(_ params: JSON?, store: KeyStore) async throws -> RPCResult {
        let reader = try ParamsReader(params, method: "resources/read")
        guard let uri = try reader.optionalString("uri") else {
            throw RPCError.invalidParams(field: "uri", reason: "is required")
        }
        guard let target = Target(uri: uri) else { throw notFound(uri) }
        let outcome: ListOutcome
        do {
            outcome = try await cachedOrFetched(store)
        } catch {
            throw RPCError(
                code: RPCError.Code.internalError,
                message: "The keys cannot be read: \(MCPBusinessError.message(for: error))")
        }
        let content: JSON
        switch target {
        case .collection:
            var list = MCPKeyJSON.list(outcome).objectValue ?? [:]
            list["fromCache"] = nil
            content = .object(list)
        case .key(let id):
            guard let key = outcome.snapshot.keys.first(where: { $0.id == id }) else { throw notFound(uri) }
            content = ["key": APIKeyEncoding.json(key), "revision": .int(outcome.snapshot.revision)]
        }
        return .json([
            "contents": [["uri": .string(uri), "mimeType": .string(mimeType), "text": .string(try content.serializedString())]]
        ])
    }

    static func notFound(_ uri: String) -> RPCError {
        RPCError(
            code: resourceNotFound,
            message: "Resource not found: \(uri); this server has \(collectionURI) and \(keyURITemplate) for the ids it lists",
            data: ["uri": .string(uri)])
    }

    private static func cachedOrFetched(_ store: KeyStore) async throws(InfrahubError) -> ListOutcome {
        if let cached = store.cachedList() { return cached }
        return try await store.list()
    }
}
