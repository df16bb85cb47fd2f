import HyperstackRPCServer
import InfrahubClient
import JSONRPC
import JanssonJSON

/// A `tools/call`'s arguments, checked against the tool's input schema before anything
/// happens upstream. A failure is an `RPCError` -32602 naming the argument; `MCPToolCalls`
/// decides, by the negotiated revision, whether the client sees it as that error or as an
/// `isError` result.
enum MCPToolRequest: Sendable {
    case list(refresh: Bool)
    case generate(name: String, description: String?, secretFile: String?)
    case update(id: Int64, name: String, description: DescriptionUpdate)
    case delete(id: Int64)

    init(tool: MCPToolName, arguments: JSON?) throws(RPCError) {
        let reader = try ParamsReader(arguments, method: tool.rawValue)
        try reader.rejectUnknown(allowed: tool.arguments)
        // The schemas allow null only for descriptions; ParamsReader, made for JSON-RPC, reads
        // null as absent.
        for field in tool.arguments.sorted() where field != "description" {
            if arguments?[field]?.isNull == true {
                throw RPCError.invalidParams(field: field, reason: "must not be null")
            }
        }
        switch tool {
        case .listAPIKeys:
            self = .list(refresh: try reader.optionalBool("refresh") ?? false)
        case .generateAPIKey:
            let name = try reader.keyName("name")
            let description = try reader.optionalString("description")
            let secretFile = try reader.optionalString("secretFile")
            if secretFile?.isEmpty == true {
                throw RPCError.invalidParams(field: "secretFile", reason: "must not be empty")
            }
            self = .generate(name: name, description: description, secretFile: secretFile)
        case .updateAPIKey:
            let id = try reader.keyID("id")
            self = .update(id: id, name: try reader.keyName("name"), description: try reader.descriptionUpdate("description"))
        case .deleteAPIKey:
            self = .delete(id: try reader.keyID("id"))
        }
    }
}
