import Credentials
import JSONRPC
import JanssonJSON

/// What `initialize` may tell the server: the parent's pid and an API key. The one place
/// that validates `initialize` params.
package struct InitializeOptions: Sendable, Equatable {
    package var processID: Int32?
    package var apiKey: SecretString?

    /// Reads `{processId?, clientInfo?, initializationOptions?: {apiKey?}}` with -32602 for
    /// what is wrong: first every member's type (so a wrong type is named before a bad value
    /// elsewhere), then the values: a process id out of range, an API key that is empty or
    /// not one line of visible ASCII. Everything else an LSP client sends is ignored.
    package init(params: JSON?) throws(RPCError) {
        guard let params, !params.isNull else { return }
        guard case .object(let object) = params else {
            throw RPCError.invalidParams(field: "params", reason: "must be an object")
        }
        try Self.checkTypes(object)
        if let pid = object["processId"], !pid.isNull {
            guard let value = pid.intValue, value > 0, value <= Int64(Int32.max) else {
                throw RPCError.invalidParams(field: "processId", reason: "must be a positive integer process id or null")
            }
            processID = Int32(value)
        }
        if let options = object["initializationOptions"]?.objectValue, let key = options["apiKey"], !key.isNull {
            guard let string = key.stringValue else {
                throw RPCError.invalidParams(field: "initializationOptions.apiKey", reason: "must be a non-empty string")
            }
            // Validated here, where it is loaded, like the environment's and the file's; the
            // reason names the problem, never the key.
            do {
                apiKey = try SecretString(validatingAPIKey: string, from: .initializationOptions)
            } catch {
                throw RPCError.invalidParams(field: "initializationOptions.apiKey", reason: error.reason)
            }
        }
    }

    package init(processID: Int32? = nil, apiKey: SecretString? = nil) {
        self.processID = processID
        self.apiKey = apiKey
    }

    /// The type checks of the members we read.
    private static func checkTypes(_ object: JSONObject) throws(RPCError) {
        if let processId = object["processId"], !processId.isNull, processId.intValue == nil {
            throw .invalidParams(field: "processId", reason: "must be an integer or null, not \(article(processId.typeName))")
        }
        if let clientInfo = object["clientInfo"] {
            guard case .object(let info) = clientInfo else {
                throw .invalidParams(field: "clientInfo", reason: "must be an object, not \(article(clientInfo.typeName))")
            }
            guard let name = info["name"], name.stringValue != nil else {
                throw .invalidParams(field: "clientInfo.name", reason: "must be a string")
            }
            if let version = info["version"], version.stringValue == nil {
                throw .invalidParams(field: "clientInfo.version", reason: "must be a string, not \(article(version.typeName))")
            }
        }
        if let options = object["initializationOptions"], !options.isNull, options.objectValue == nil {
            throw .invalidParams(field: "initializationOptions", reason: "must be an object, not \(article(options.typeName))")
        }
    }
}

/// "an object", "a string": reads better in a message than the bare type name.
private func article(_ typeName: String) -> String {
    switch typeName.first {
    case "a", "e", "i", "o", "u": return "an \(typeName)"
    default: return "a \(typeName)"
    }
}
