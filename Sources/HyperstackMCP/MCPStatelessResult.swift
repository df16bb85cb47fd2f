import HyperstackRPCServer
import JSONRPC
import JanssonJSON

/// What the stateless revision adds to every result on top of the handshake-era body: the
/// required `resultType`, the server's identity under `_meta`, and on the cacheable methods a
/// time-to-live and a scope, so a client knows how long it may reuse an answer and whether it
/// may share it with other users.
package enum MCPStatelessResult {
    /// How long a client may reuse one method's answer, and with whom.
    package struct CacheHint: Equatable, Sendable {
        package var ttlMilliseconds: Int64
        /// `public`: no user data, shareable across credentials; `private`: this user's alone.
        package var scope: String

        package init(ttlMilliseconds: Int64, scope: String) {
            self.ttlMilliseconds = ttlMilliseconds
            self.scope = scope
        }

        /// For answers built from the user's key set: private, and fresh as long as the cache
        /// they came from (zero when it is off or stale).
        package init(freshFor remaining: Duration) {
            let (seconds, attoseconds) = remaining.components
            self.init(ttlMilliseconds: max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000), scope: "private")
        }

        /// For answers that change only with this binary: the tools, the templates, discovery.
        package static let fixed = CacheHint(ttlMilliseconds: 3_600_000, scope: "public")
    }

    package static let serverInfo: JSON = [
        "name": .string(ServerIdentity.name), "title": "Hyperstack API keys", "version": .string(ServerIdentity.version),
    ]

    package static func decorate(_ result: JSON, cache: CacheHint? = nil) -> JSON {
        var members = result.objectValue ?? [:]
        if members["resultType"] == nil { members["resultType"] = "complete" }
        var meta = members["_meta"]?.objectValue ?? [:]
        meta[MCPRequestEnvelope.serverInfoKey] = serverInfo
        members["_meta"] = .object(meta)
        if let cache {
            members["ttlMs"] = .int(cache.ttlMilliseconds)
            members["cacheScope"] = .string(cache.scope)
        }
        return .object(members)
    }

    /// `decorate` for a handler's result, whichever form it came in.
    static func decorate(_ result: RPCResult, cache: CacheHint? = nil) -> RPCResult {
        switch result {
        case .json(let json):
            return .json(decorate(json, cache: cache))
        case .serialized(let bytes):
            guard let json = try? JSON.parse(bytes) else { return result }
            return .json(decorate(json, cache: cache))
        }
    }
}
