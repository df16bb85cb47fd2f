import HyperstackRPCServer
import JSONRPC
import JanssonJSON

/// `subscriptions/listen {notifications}`: what a stream asks for, and the part of it this
/// server honours. Our tools and prompts never change, so their list changes are never
/// granted; resource subscriptions are granted for the URIs we serve.
enum MCPListenRequest {
    static let acknowledged = "notifications/subscriptions/acknowledged"

    static func filter(_ params: JSON?) throws(RPCError) -> MCPListenStreams.Filter {
        _ = try ParamsReader(params, method: "subscriptions/listen")  // an object, or refused by name
        guard case .object(let requested)? = params?["notifications"] else {
            throw RPCError.invalidParams(
                field: "notifications",
                reason: "is required: an object such as {\"resourcesListChanged\": true, \"resourceSubscriptions\": [\"\(MCPResources.collectionURI)\"]}")
        }
        let flags = try ParamsReader(.object(requested), method: "subscriptions/listen")
        for flag in ["toolsListChanged", "promptsListChanged"] { _ = try flags.optionalBool(flag) }
        let listChanged = try flags.optionalBool("resourcesListChanged") ?? false
        var uris: Set<String> = []
        switch requested["resourceSubscriptions"] {
        case nil, .null?:
            break
        case .array(let items)?:
            for item in items {
                guard let uri = item.stringValue else {
                    throw RPCError.invalidParams(
                        field: "notifications.resourceSubscriptions", reason: "must hold URI strings, not \(item.typeName)")
                }
                if MCPResources.Target(uri: uri) != nil { uris.insert(uri) }
            }
        case let other?:
            throw RPCError.invalidParams(
                field: "notifications.resourceSubscriptions", reason: "must be an array of URIs, not \(other.typeName)")
        }
        return MCPListenStreams.Filter(resourcesListChanged: listChanged, resourceSubscriptions: uris)
    }

    /// The acknowledgement's `notifications`: what was granted, leaving out what was not.
    static func granted(_ filter: MCPListenStreams.Filter) -> JSON {
        var granted: JSONObject = [:]
        if filter.resourcesListChanged { granted["resourcesListChanged"] = true }
        if !filter.resourceSubscriptions.isEmpty {
            granted["resourceSubscriptions"] = .array(filter.resourceSubscriptions.sorted().map(JSON.string))
        }
        return .object(granted)
    }

    /// The `_meta` that tags every frame of the stream `id`.
    static func meta(_ id: RequestID) -> JSON {
        [MCPRequestEnvelope.subscriptionIDKey: id.json]
    }
}
