import Credentials
import JSONRPC
import JanssonJSON

/// What `initialize` may tell the server: the parent's pid, an API key and an access token.
/// The one place that validates `initialize` params.
package struct InitializeOptions: Sendable, Equatable {
    package var processID: Int32?
    /// Only what `initializationOptions` brought; each one replaces the one the server loaded.
    package var credentials: UpstreamCredentials

    /// Reads `{processId?, clientInfo?, initializationOptions?: {apiKey?, accessToken?}}` with
    /// -32602 for what is wrong: first every member's type (so a wrong type is named before a
    /// bad value elsewhere), then the values: a process id out of range, a key or token that is
    /// empty or not one line of visible ASCII. Everything else an LSP client sends is ignored.
    package init(params: JSON?) throws(RPCError) {
        credentials = .none
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
        guard let options = object["initializationOptions"]?.objectValue else { return }
        for credential in CredentialKind.allCases {
            guard let value = options[credential.optionsMember], !value.isNull else { continue }
            let field = "initializationOptions.\(credential.optionsMember)"
            // A string: `checkTypes` refused anything else.
            guard let string = value.stringValue else { continue }
            // Validated here, where it is loaded, like the environment's and the file's; the
            // reason names the problem, never the value.
            do {
                credentials[credential] = try SecretString(validating: string, as: credential, from: .initializationOptions)
            } catch {
                throw RPCError.invalidParams(field: field, reason: error.reason)
            }
        }
    }

    package init(processID: Int32? = nil, credentials: UpstreamCredentials = .none) {
        self.processID = processID
        self.credentials = credentials
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
        for credential in CredentialKind.allCases {
            if let value = object["initializationOptions"]?.objectValue?[credential.optionsMember], !value.isNull,
                value.stringValue == nil
            {
                throw .invalidParams(
                    field: "initializationOptions.\(credential.optionsMember)",
                    reason: "must be a non-empty string, not \(article(value.typeName))")
            }
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
