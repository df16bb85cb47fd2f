import APIKeyStore
import InfrahubClient
import JanssonJSON

/// What an MCP client hears when the key set changes, whoever changed it (this session's
/// tools, another session, polling): `notifications/resources/updated` for each subscribed
/// resource the change touches, and `notifications/resources/list_changed` when keys appear
/// or go. Called by the store while it applies the change, so they come before the result of
/// the tool call that caused it.
package enum MCPChangeNotifications {
    static let updated = "notifications/resources/updated"
    static let listChanged = "notifications/resources/list_changed"

    /// Hands each notification `change` calls for to `notify`; nothing before `initialize` has
    /// answered, since the client has not agreed on a revision yet.
    package static func send(
        for change: KeyChange, state: MCPConnectionState, notify: (_ method: String, _ params: JSON) -> Void
    ) {
        guard state.negotiatedVersion != nil else { return }
        for message in notifications(for: change, subscriptions: state.subscriptions) {
            notify(message.method, message.params)
        }
    }

    static func notifications(for change: KeyChange, subscriptions: Set<String>) -> [(method: String, params: JSON)] {
        var messages: [(method: String, params: JSON)] = []
        if subscriptions.contains(MCPResources.collectionURI) {
            messages.append((updated, ["uri": .string(MCPResources.collectionURI)]))
        }
        let touched = change.added.map(\.id) + change.updated.map(\.id) + change.removed
        for id in touched.sorted() where subscriptions.contains(MCPResources.keyURI(id)) {
            messages.append((updated, ["uri": .string(MCPResources.keyURI(id))]))
        }
        if !change.added.isEmpty || !change.removed.isEmpty {
            messages.append((listChanged, [:]))
        }
        return messages
    }
}
