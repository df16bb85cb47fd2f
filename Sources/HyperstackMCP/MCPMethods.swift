import APIKeyStore
import HyperstackRPCServer
import JSONRPC
import JanssonJSON

/// The method table of one MCP session, for both eras: tools, resources, the handshake era's
/// subscriptions and logging, the stateless era's `server/discover` and `subscriptions/listen`.
/// `initialize` and `ping` are the session's own (`MCPSession`); `MCPLifecycle` keeps each
/// era to its methods. In the stateless era every result takes `MCPStatelessResult`'s shape.
package enum MCPMethods {
    /// How often a subscribed session's store polls Hyperstack when no `--poll-interval` was
    /// given: without polling, changes made elsewhere would never reach a subscriber.
    package static let subscriptionPollInterval = Duration.seconds(30)

    /// The MCP logging levels (RFC 5424's), for `logging/setLevel`.
    static let logLevels: Set<String> = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]

    /// - Parameters:
    ///   - pollDemand: this session's demand on the store's polling; a subscription or listen
    ///     stream raises it to `subscriptionPollInterval` when `configuredPollInterval` is `nil`.
    ///   - includeTestMethods: adds `test.sleep` and `test.stderr` (see `TestOnlyMethods`).
    package static func table(
        store: KeyStore, options: MCPOptions, state: MCPConnectionState, pollDemand: PollDemand,
        configuredPollInterval: Duration?, includeTestMethods: Bool
    ) -> MethodTable {
        var table = Table(state: state)
        let calls = MCPToolCalls(store: store, options: options, state: state)
        let followInterest = PollFollower(state: state, pollDemand: pollDemand, configured: configuredPollInterval)
        let storeFreshness: @Sendable () -> MCPStatelessResult.CacheHint = {
            MCPStatelessResult.CacheHint(freshFor: store.remainingFreshness)
        }
        table.registerConstant("tools/list", MCPToolCatalog.listResult(inlineSecrets: options.inlineSecrets), cache: .fixed)
        table.registerConstant("resources/templates/list", MCPResources.templatesResult, cache: .fixed)
        table.registerConstant("server/discover", discoverResult(options), cache: .fixed)
        table.register("tools/call") { params, context in try await calls.call(params, context: context) }
        table.register("resources/list", cache: storeFreshness) { _, _ in .json(await MCPResources.list(store: store)) }
        table.register("resources/read", cache: storeFreshness) { params, _ in try await MCPResources.read(params, store: store) }
        table.register("resources/subscribe") { params, _ in
            state.subscribe(try resourceURI(params, method: "resources/subscribe"))
            await followInterest()
            return .json([:])
        }
        table.register("resources/unsubscribe") { params, _ in
            state.unsubscribe(try resourceURI(params, method: "resources/unsubscribe"))
            await followInterest()
            return .json([:])
        }
        table.register("subscriptions/listen") { params, context in
            guard let id = context.id else {
                throw RPCError.invalidRequest("subscriptions/listen must be a request with an id: its answer ends the stream")
            }
            let filter = try MCPListenRequest.filter(params)
            let meta = MCPListenRequest.meta(id)
            try state.listens.open(id: id, filter: filter) {
                context.notify(MCPListenRequest.acknowledged, params: ["notifications": MCPListenRequest.granted(filter), "_meta": meta])
            }
            await followInterest()
            _ = await state.listens.waitForEnd(id)
            await followInterest()
            return .json(["_meta": meta])
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
        var methods = table.methods
        methods.registerNotification("notifications/initialized") { _ in }
        if includeTestMethods { TestOnlyMethods.register(in: &methods) }
        return methods
    }

    /// `server/discover`: what `initialize` tells a handshake client, for a stateless one.
    static func discoverResult(_ options: MCPOptions) -> JSON {
        [
            "supportedVersions": .array(MCPProtocolVersion.stateless.map(JSON.string)),
            "capabilities": MCPSession.statelessCapabilities,
            "instructions": .string(MCPInstructions.text(options)),
        ]
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

    /// A method table whose handlers answer in the shape of the connection's era, and report
    /// their waits on Hyperstack's backoff to a client that asked for progress.
    private struct Table {
        let state: MCPConnectionState
        var methods = MethodTable()

        mutating func register(
            _ method: String, cache: (@Sendable () -> MCPStatelessResult.CacheHint)? = nil,
            _ handler: @escaping RPCMethodHandler
        ) {
            let state = state
            methods.register(method) { params, context in
                let result = try await MCPProgress.reporting(params: params, context: context, version: state.effectiveVersion) {
                    try await handler(params, context)
                }
                guard state.isStateless else { return result }
                return MCPStatelessResult.decorate(result, cache: cache?())
            }
        }

        /// A constant result, serialised once for each era.
        mutating func registerConstant(_ method: String, _ result: JSON, cache: MCPStatelessResult.CacheHint) {
            let state = state
            let handshake = prepared(result)
            let stateless = prepared(MCPStatelessResult.decorate(result, cache: cache))
            let answer: @Sendable () -> RPCResult = { state.isStateless ? stateless : handshake }
            methods.register(method, immediate: { _ in answer() }, handler: { _, _ in answer() })
        }

        private func prepared(_ result: JSON) -> RPCResult {
            (try? result.serialized()).map(RPCResult.serialized) ?? .json(result)
        }
    }

    /// Keeps the store polling while this session waits for changes (a subscription or a
    /// listen stream) and no `--poll-interval` was given, and lets it stop when nothing waits.
    private struct PollFollower: Sendable {
        let state: MCPConnectionState
        let pollDemand: PollDemand
        let configured: Duration?

        func callAsFunction() async {
            guard configured == nil else { return }
            // Subscriptions come and go concurrently: settle on what holds after setting it.
            var wanted: Duration?
            repeat {
                wanted = state.awaitsChanges ? MCPMethods.subscriptionPollInterval : nil
                await pollDemand.set(wanted)
            } while (state.awaitsChanges ? MCPMethods.subscriptionPollInterval : nil) != wanted
        }
    }
}
