import APIKeyStore
import Credentials
import HyperstackRPCServer
import InfrahubClient
import JSONRPC
import JanssonJSON
import SecureFiles

/// `tools/call`: finds the tool, checks its arguments and runs it over the key store.
///
/// The spec's error rules: an unknown tool or a call that is not a `CallToolRequest` is the
/// protocol error -32602; arguments that fail the schema are -32602 before 2025-11-25 and an
/// `isError` result from then on; whatever goes wrong upstream (not found, a taken name, the
/// key limit, a refused credential, an outage) is an `isError` result with advice.
struct MCPToolCalls: Sendable {
    let store: KeyStore
    let options: MCPOptions
    let state: MCPConnectionState

    func call(_ params: JSON?, context: RequestContext) async throws -> RPCResult {
        guard case .object(let members)? = params else {
            throw RPCError.invalidParams(field: "params", reason: "must be an object with the tool's name and its arguments")
        }
        guard let toolName = members["name"]?.stringValue else {
            throw RPCError.invalidParams(field: "name", reason: "is required: the name of the tool to call")
        }
        guard let tool = MCPToolName(rawValue: toolName) else {
            let known = MCPToolName.allCases.map(\.rawValue).joined(separator: ", ")
            throw RPCError(
                code: RPCError.Code.invalidParams, message: "Unknown tool: '\(toolName)'; this server has \(known)",
                data: ["field": "name", "reason": .string("names no tool of this server (it has \(known))")])
        }
        let arguments = members["arguments"]
        if let arguments, !arguments.isNull, arguments.objectValue == nil {
            throw RPCError.invalidParams(field: "arguments", reason: "must be an object, not \(arguments.typeName)")
        }
        let request: MCPToolRequest
        do {
            request = try MCPToolRequest(tool: tool, arguments: arguments)
        } catch {
            guard MCPProtocolVersion.reportsInvalidArgumentsAsToolErrors(state.effectiveVersion) else { throw error }
            let detail = error.data?["field"]?.stringValue.map { field in
                "'\(field)' \(error.data?["reason"]?.stringValue ?? "is invalid")"
            } ?? error.message
            return MCPToolResult.failure("Invalid arguments for \(tool.rawValue): \(detail). Nothing was done; correct the call and try again.")
        }
        return try await run(request, context: context)
    }

    private func run(_ request: MCPToolRequest, context: RequestContext) async throws -> RPCResult {
        switch request {
        case .list(let refresh):
            let outcome: ListOutcome
            if !refresh, let cached = store.cachedList() {
                outcome = cached
            } else {
                do throws(InfrahubError) {
                    outcome = try await store.list(refresh: refresh)
                } catch {
                    return MCPToolResult.failure(MCPBusinessError.message(for: error))
                }
            }
            return try MCPToolResult.success(MCPKeyJSON.list(outcome))
        case .generate(let name, let description, let secretFile):
            return try await generate(name: name, description: description, secretFile: secretFile, context: context)
        case .update(let id, let name, let description):
            let updated: (key: APIKeyRecord, revision: Int64)
            do throws(InfrahubError) {
                updated = try await store.update(id: id, name: name, description: description)
            } catch {
                return MCPToolResult.failure(MCPBusinessError.message(for: error, id: id, name: name))
            }
            return try MCPToolResult.success(["key": APIKeyEncoding.json(updated.key), "revision": .int(updated.revision)])
        case .delete(let id):
            return try await delete(id: id, context: context)
        }
    }

    /// Deletes after the user's confirmation, when the client can ask for one (see
    /// `MCPDeleteConfirmation`). A person's "no" is a result, not an error: the key is kept,
    /// as asked, and `deleted: false` says so (a deletion's result is `{id, revision}`, as it
    /// always was).
    private func delete(id: Int64, context: RequestContext) async throws -> RPCResult {
        let name = store.publishedSnapshot.keys.first { $0.id == id }?.name
        let decision = try await MCPDeleteConfirmation.ask(
            context: context, version: state.negotiatedVersion, clientCapabilities: state.clientCapabilities, id: id,
            name: name)
        switch decision {
        case .notAsked, .confirmed:
            break
        case .refused(let reason):
            return try MCPToolResult.success([
                "id": .int(id), "deleted": false, "revision": .int(store.publishedSnapshot.revision),
                "confirmation": .string(reason),
                "message": .string(MCPDeleteConfirmation.refusalMessage(reason: reason, id: id, name: name)),
            ])
        case .unavailable(let detail):
            return MCPToolResult.failure(MCPDeleteConfirmation.unavailableMessage(detail, id: id))
        }
        let revision: Int64
        do throws(InfrahubError) {
            revision = try await store.delete(id: id)
        } catch {
            return MCPToolResult.failure(MCPBusinessError.message(for: error, id: id))
        }
        return try MCPToolResult.success(["id": .int(id), "revision": .int(revision)])
    }

    private func generate(name: String, description: String?, secretFile: String?, context: RequestContext) async throws -> RPCResult {
        let destination: KeyGeneration.Destination
        if let secretFile {
            do {
                destination = .file(try SecretFilePath.resolve(secretFile, policy: options.secretFiles))
            } catch {
                return MCPToolResult.failure("The secretFile '\(secretFile)' is refused: \(error.reason). No key was created.")
            }
        } else {
            destination = options.inlineSecrets ? .inline : .namedAfterKey(options.secretFiles)
        }
        let outcome: KeyGeneration.Outcome
        do throws(KeyGeneration.Failure) {
            outcome = try await KeyGeneration.generate(
                store: store, name: name, description: description, destination: destination,
                commit: { context.commitToCompletion() })
        } catch {
            switch error {
            case .secretFileRefused(let refusal):
                return MCPToolResult.failure("The secret file \(refusal.path) cannot be used: \(refusal.reason). No key was created.")
            case .cancelled:
                throw CancellationError()
            case .upstream(let failure):
                return MCPToolResult.failure(MCPBusinessError.message(for: failure, name: name))
            }
        }
        let key = APIKeyEncoding.json(outcome.key)
        let revision = JSON.int(outcome.revision)
        switch outcome.delivery {
        case .inline(let secret):
            var withSecret = key.objectValue ?? [:]
            withSecret["secret"] = .string(secret.revealed)
            return try MCPToolResult.success(["key": .object(withSecret), "revision": revision])
        case .written(let path):
            return try MCPToolResult.success(["key": key, "revision": revision, "secretFile": .string(path)])
        case .notWritten(let path, let reason):
            let id = outcome.key.id
            return MCPToolResult.failure(
                "The key '\(outcome.key.name)' (id \(id)) was created, but its secret could not be written to \(path): "
                    + "\(reason). Nobody has the secret now: delete the key with delete_api_key {\"id\": \(id)} and generate another.")
        }
    }
}
