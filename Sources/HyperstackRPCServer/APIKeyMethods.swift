import APIKeyStore
import Credentials
import InfrahubClient
import JSONRPC
import JanssonJSON

/// The `apiKeys.*` methods: validate params locally, call the key store, and shape results.
///
/// Upstream failures become the 14xx/15xx codes; the generated secret appears only in
/// the generate result, which is the one place the protocol promises to return it. That is
/// why a generate cannot be cancelled once it has started upstream.
package struct APIKeyMethods: Sendable {
    private let store: KeyStore
    private let listCache = ListResultCache()

    /// Shortest polling interval accepted: anything faster would spin and eat the
    /// upstream rate limit, and nanosecond values would round to "off".
    package static let minimumPollInterval = 0.1

    package init(store: KeyStore) {
        self.store = store
    }

    /// Adds every `apiKeys.*` method to `table`.
    package func register(in table: inout MethodTable) {
        let store = store
        let listCache = listCache
        // A fresh cache answers inline on the reader thread: no task, no actor.
        table.register("apiKeys.list") { params in
            let request = try ListRequest(params)
            guard !request.refresh, let cached = store.cachedList(maxAge: request.maxAge) else { return nil }
            return .serialized(try listCache.serializedResult(for: cached))
        } handler: { params, _ in
            let request = try ListRequest(params)
            let (refresh, maxAge) = (request.refresh, request.maxAge)
            let outcome = try await Self.upstream { () throws(InfrahubError) in
                try await store.list(refresh: refresh, maxAge: maxAge)
            }
            return .serialized(try listCache.serializedResult(for: outcome))
        }
        table.register("apiKeys.generate") { params, context in
            let reader = try ParamsReader(params, method: "apiKeys.generate")
            let name = try reader.keyName("name")
            let description = try reader.optionalString("description")
            // Once the call is on its way upstream, the key may exist and its secret is
            // only in the answer: from here on, $/cancelRequest must not drop that answer.
            guard context.commitToCompletion() else { throw CancellationError() }
            let generated = try await Self.upstream { () throws(InfrahubError) in
                try await store.generate(name: name, description: description)
            }
            var key = APIKeyEncoding.json(generated.key.record).objectValue ?? [:]
            key["secret"] = .string(generated.key.secret.revealed)
            return .json(["key": .object(key), "revision": .int(generated.revision)])
        }
        table.register("apiKeys.update") { params, _ in
            let reader = try ParamsReader(params, method: "apiKeys.update")
            let id = try reader.keyID("id")
            let name = try reader.keyName("name")
            let description = try reader.descriptionUpdate("description")
            let updated = try await Self.upstream { () throws(InfrahubError) in
                try await store.update(id: id, name: name, description: description)
            }
            return .json(["key": APIKeyEncoding.json(updated.key), "revision": .int(updated.revision)])
        }
        table.register("apiKeys.delete") { params, _ in
            let reader = try ParamsReader(params, method: "apiKeys.delete")
            let id = try reader.keyID("id")
            let revision = try await Self.upstream { () throws(InfrahubError) in
                try await store.delete(id: id)
            }
            return .json(["id": .int(id), "revision": .int(revision)])
        }
    }

    /// Adds `apiKeys.watch`, which asks for polling on behalf of one session: a shared store
    /// polls at the shortest interval its sessions ask for.
    package static func registerWatch(in table: inout MethodTable, demand: PollDemand) {
        table.register("apiKeys.watch") { params, _ in
            let reader = try ParamsReader(params, method: "apiKeys.watch")
            let interval = try reader.requiredSeconds("interval")
            guard interval == 0 || interval >= Self.minimumPollInterval else {
                throw RPCError.invalidParams(
                    field: "interval",
                    reason: "must be 0 (off) or at least \(Self.minimumPollInterval) seconds")
            }
            await demand.set(interval > 0 ? Duration(checkedSeconds: interval) : nil)
            return .json(["interval": interval == interval.rounded() ? .int(Int64(interval)) : .double(interval)])
        }
    }

    /// `apiKeys.list` params.
    private struct ListRequest {
        let refresh: Bool
        let maxAge: Duration?

        init(_ params: JSON?) throws(RPCError) {
            let reader = try ParamsReader(params, method: "apiKeys.list")
            refresh = try reader.optionalBool("refresh") ?? false
            maxAge = try reader.optionalSeconds("maxAge").map(Duration.init(checkedSeconds:))
        }
    }

    /// Runs an upstream call, turning `InfrahubError` into the protocol's error.
    private static func upstream<T>(_ call: () async throws(InfrahubError) -> T) async throws(RPCError) -> T {
        do {
            return try await call()
        } catch {
            throw RPCError(upstream: error)
        }
    }
}
