import APIKeyStore
import HyperstackRPCServer
import JSONRPC
import JanssonJSON

/// The method table of one MCP session: tools, resources and their subscriptions, logging.
/// `initialize` and `ping` are the session's own (`MCPSession`).
package enum MCPMethods {
    /// How often a subscribed session's store polls Hyperstack when no `--poll-interval` was
    /// given: without polling, changes made elsewhere would never reach a subscriber.
    package static let subscriptionPollInterval = Duration.seconds(30)

    /// The MCP logging levels (RFC 5424's), for `logging/setLevel`.
    static let logLevels: Set<String> = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]

    /// - Parameters:
    ///   - pollDemand: this session's demand on the store's polling; subscribing raises it to
    ///     `subscriptionPollInterval` when `configuredPollInterval` is `nil`.
    ///   - includeTestMethods: adds `test.sleep` and `test.stderr` (see `TestOnlyMethods`).
    package static func table(
        store: KeyStore, options: MCPOptions, state: MCPConnectionState, pollDemand: PollDemand,
        configuredPollInterval: Duration?, includeTestMethods: Bool
    ) -> MethodTable {
        var table = MethodTable()
        let calls = MCPToolCalls(store: store, options: options, state: state)
        let toolsList = prepared(MCPToolCatalog.listResult(inlineSecrets: options.inlineSecrets))
        let templates = prepared(MCPResources.templatesResult)
        table.register("tools/list") { _, _ in toolsList }
        table.register("tools/call") { params, context in try await calls.call(params, context: context) }
        table.register("resources/list") { _, _ in .json(await MCPResources.list(store: store)) }
        table.register("resources/templates/list") { _, _ in templates }
        table.register("resources/read") { params, _ in try await MCPResources.read(params, store: store) }
        table.register("resources/subscribe") { params, _ in
            let uri = try resourceURI(params, method: "resources/subscribe")
            if state.subscribe(uri) == 1, configuredPollInterval == nil {
                await pollDemand.set(subscriptionPollInterval)
            }
            return .json([:])
        }
        table.register("resources/unsubscribe") { params, _ in
            let uri = try resourceURI(params, method: "resources/unsubscribe")
            if state.unsubscribe(uri) == 0, configuredPollInterval == nil {
                await pollDemand.set(nil)
            }
            return .json([:])
        }
        table.register("logging/setLevel") { params, _ in
            let reader = try ParamsReader(params, method: "logging/setLevel")
            guard let level = try reader.optionalString("level"), logLevels.contains(level) else {
                throw RPCError.invalidParams(
                    field: "level", reason: "must be one of \(logLevels.sorted().joined(separator: ", "))")
            }
            state.setLogLevel(level)
            return .json([:])
        }
        table.registerNotification("notifications/initialized") { _ in }
        if includeTestMethods { TestOnlyMethods.register(in: &table) }
        return table
    }

    /// The `uri` of a subscribe or unsubscribe, which must name one of our resources.
    private static func resourceURI(_ params: JSON?, method: String) throws(RPCError) -> String {
        let reader = try ParamsReader(params, method: method)
        guard let uri = try reader.optionalString("uri") else {
            throw RPCError.invalidParams(field: "uri", reason: "is required")
        }
        guard MCPResources.Target(uri: uri) != nil else { throw MCPResources.notFound(uri) }
        return uri
    }

    /// A constant result, serialised once.
    private static func prepared(_ result: JSON) -> RPCResult {
        (try? result.serialized()).map(RPCResult.serialized) ?? .json(result)
    }
}
