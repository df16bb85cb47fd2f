import InfrahubClient
import JSONRPC
import JanssonJSON

/// What `initialize` may tell the server: the parent's pid and an API key.
public struct InitializeOptions: Sendable, Equatable {
    public var processID: Int32?
    public var apiKey: SecretString?

    /// Reads `{processId?, clientInfo?, initializationOptions?: {apiKey?}}`, rejecting wrong types,
    /// and an API key that is empty or not one line of visible ASCII, with -32602.
    public init(params: JSON?) throws(RPCError) {
        guard let params, !params.isNull else { return }
        guard case .object(let object) = params else {
            throw RPCError.invalidParams(field: "params", reason: "initialize takes an object")
        }
        if let pid = object["processId"], !pid.isNull {
            guard let value = pid.intValue, value > 0, value <= Int64(Int32.max) else {
                throw RPCError.invalidParams(field: "processId", reason: "must be a positive integer process id or null")
            }
            processID = Int32(value)
        }
        if let options = object["initializationOptions"], !options.isNull {
            guard case .object(let members) = options else {
                throw RPCError.invalidParams(field: "initializationOptions", reason: "must be an object")
            }
            if let key = members["apiKey"], !key.isNull {
                guard let string = key.stringValue else {
                    throw RPCError.invalidParams(
                        field: "initializationOptions.apiKey", reason: "must be a non-empty string")
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
    }

    public init(processID: Int32? = nil, apiKey: SecretString? = nil) {
        self.processID = processID
        self.apiKey = apiKey
    }
}
