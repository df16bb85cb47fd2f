import InfrahubClient

/// Upstream failures as the text of an `isError` tool result: what happened and what to do
/// next, in the tools' own terms. `InfrahubError.message` never holds a secret.
enum MCPBusinessError {
    /// - Parameters: `id` and `name` are the call's, for messages that name the key.
    static func message(for error: InfrahubError, id: Int64? = nil, name: String? = nil) -> String {
        switch error.kind {
        case .notFound:
            if let id {
                return "No API key with id \(id) exists; it may have been deleted already. "
                    + "Call list_api_keys with refresh: true for the current keys."
            }
            return "Hyperstack answered 'not found' (\(error.message)); check the server's --base-url."
        case .conflict:
            let subject = name.map { "An API key named '\($0)'" } ?? "A key with that name"
            return "\(subject) already exists. Choose another name, or call list_api_keys to find the existing key."
        case .forbidden:
            return "Hyperstack refused: \(error.upstreamMessage ?? error.message). If the account has reached its "
                + "maximum number of API keys, delete one it no longer needs with delete_api_key, then try again."
        case .unauthorized:
            return "Hyperstack did not accept this server's API key, or none is configured (\(error.message)). "
                + "Set HYPERSTACK_API_KEY or --api-key-file in the MCP server's configuration and restart it; "
                + "trying again will not help."
        case .rateLimited:
            return "Hyperstack's rate limit was reached (\(error.message)). Wait a minute, then try again."
        case .serverError, .unreachable, .malformedResponse:
            return "Hyperstack's API is unavailable right now (\(error.message)). Try again in a minute; if a "
                + "generate_api_key failed this way, call list_api_keys first, since the key may have been created."
        case .rejected:
            return "Hyperstack rejected the request (\(error.message)). Check the arguments and try again."
        }
    }
}
