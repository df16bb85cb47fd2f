import APIKeyStore
import Credentials
import InfrahubClient
import JSONRPC
import JanssonJSON
import SecureFiles

/// The `apiKeys.*` methods: validate params locally, call the key store, and shape results.
///
/// Upstream failures become the 14xx/15xx codes; the generated secret appears only in
/// the generate result, which is the one place the protocol promises to return it. That is
/// why a generate cannot be cancelled once it has started upstream.
package struct APIKeyMethods: Sendable {
    private let store: KeyStore
    private let secretFiles: SecretFilePolicy
    private let listCache = ListResultCache()

    /// Shortest polling interval accepted: anything faster would spin and eat the
    /// upstream rate limit, and nanosecond values would round to "off".
    package static let minimumPollInterval = 0.1

    /// - Parameter secretFiles: where `apiKeys.generate {secretFile}` may write a secret.
    package init(store: KeyStore, secretFiles: SecretFilePolicy) {
        self.store = store
        self.secretFiles = secretFiles
    }

    /// Adds every `apiKeys.*` method to `table`.
    package func register(in table: inout MethodTable) {
        let store = store
        let listCache = listCache
        let secretFiles = secretFiles
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
            let destination = try Self.secretDestination(reader, policy: secretFiles)
            // Once the call is on its way upstream, the key may exist and its secret is
            // only in the answer (or its file): from here on, $/cancelRequest must not drop that answer.
            let outcome: KeyGeneration.Outcome
            do throws(KeyGeneration.Failure) {
                outcome = try await KeyGeneration.generate(
                    store: store, name: name, description: description, destination: destination,
                    commit: { context.commitToCompletion() })
            } catch {
                switch error {
                case .secretFileRefused(let refusal):
                    throw RPCError.invalidParams(field: "secretFile", reason: "cannot be used: \(refusal.path): \(refusal.reason)")
                case .cancelled: throw CancellationError()
                case .upstream(let failure): throw RPCError(upstream: failure)
                }
            }
            let key = APIKeyEncoding.json(outcome.key)
            let revision = JSON.int(outcome.revision)
            switch outcome.delivery {
            case .inline(let secret):
                var withSecret = key.objectValue ?? [:]
                withSecret["secret"] = .string(secret.revealed)
                return .json(["key": .object(withSecret), "revision": revision])
            case .written(let path):
                return .json(["key": key, "revision": revision, "secretFile": .string(path)])
            case .notWritten(let path, let reason):
                throw RPCError.secretNotWritten(key: outcome.key, revision: outcome.revision, path: path, reason: reason)
            }
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

    /// `secretFile`: absent or null keeps the secret in the answer; a path is placed by the policy.
    private static func secretDestination(_ reader: ParamsReader, policy: SecretFilePolicy) throws(RPCError) -> KeyGeneration.Destination {
        guard let requested = try reader.optionalString("secretFile") else { return .inline }
        do {
            return .file(try SecretFilePath.resolve(requested, policy: policy))
        } catch {
            throw RPCError.invalidParams(field: "secretFile", reason: "is refused: \(error.reason)")
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
