import APIKeyStore
import InfrahubClient
import JanssonJSON

/// What an MCP client hears when the key set changes, whoever changed it (this session's
/// tools, another session, polling): `notifications/resources/updated` for each subscribed
/// resource the change touches, and `notifications/resources/list_changed` when keys appear
/// or go. In the handshake era they follow `resources/subscribe`; in the stateless era they
/// go to each `subscriptions/listen` stream that asked for them, tagged with its id. Called
/// by the store while it applies the change, so they come before the result of the tool call
/// that caused it.
package enum MCPChangeNotifications {
    static let updated = "notifications/resources/updated"
    static let listChanged = "notifications/resources/list_changed"

    /// Hands each notification `change` calls for to `notify`; nothing before the connection
    /// has settled on a revision.
    package static func send(
        for change: KeyChange, state: MCPConnectionState, notify: (_ method: String, _ params: JSON) -> Void
    ) {
        guard state.negotiatedVersion != nil else { return }
        if !state.isStateless {
            for message in notifications(for: change, subscriptions: state.subscriptions, includeListChanged: true) {
                notify(message.method, message.params)
            }
        }
        state.listens.forEach { id, filter in
            let meta = MCPListenRequest.meta(id)
            let messages = notifications(
                for: change, subscriptions: filter.resourceSubscriptions, includeListChanged: filter.resourcesListChanged)
            for message in messages {
                var params = message.params.objectValue ?? [:]
                params["_meta"] = meta
                notify(message.method, .object(params))
            }
        }
    }

    /// - Parameter includeListChanged: whether the client asked for list changes; the handshake era
    ///   sends them to every client, since its capability announces them.
    static func notifications(
        for change: KeyChange, subscriptions: Set<String>, includeListChanged: Bool
    ) -> [(method: String, params: JSON)] {
        var messages: [(method: String, params: JSON)] = []
        if subscriptions.contains(MCPResources.collectionURI) {
            messages.append((updated, ["uri": .string(MCPResources.collectionURI)]))
        }
        let touched = change.added.map(\.id) + change.updated.map(\.id) + change.removed
        for id in touched.sorted() where subscriptions.contains(MCPResources.keyURI(id)) {
            messages.append((updated, ["uri": .string(MCPResources.keyURI(id))]))
        }
        if includeListChanged, !change.added.isEmpty || !change.removed.isEmpty {
            messages.append((listChanged, [:]))
        }
        return messages
    }
}
