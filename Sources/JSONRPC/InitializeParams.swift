import JanssonJSON

/// Type-checks the `initialize` params we read (`processId`, `clientInfo`,
/// `initializationOptions`); everything else an LSP client sends is ignored.
func validateInitializeParams(_ params: JSON?) throws(RPCError) {
    guard let params, !params.isNull else { return }
    guard case .object(let object) = params else {
        throw .invalidParams(field: "params", reason: "must be an object")
    }
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
        throw .invalidParams(
            field: "initializationOptions", reason: "must be an object, not \(article(options.typeName))")
    }
}
