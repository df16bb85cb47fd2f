import InfrahubClient
import JSONRPC
import JanssonJSON

extension RPCError {
    /// 1505: `apiKeys.generate` created the key, but its secret could not be written to
    /// `secretFile`, and nobody has it now. An error rather than a result, so that no client can
    /// take it for success; `data` names the key so the client can delete it.
    package static let secretNotWrittenCode = 1505

    static func secretNotWritten(key: APIKeyRecord, revision: Int64, path: String, reason: String) -> RPCError {
        RPCError(
            code: secretNotWrittenCode,
            message: "The key '\(key.name)' (id \(key.id)) was created, but its secret could not be written to "
                + "\(path): \(reason). Nobody has the secret: delete the key (apiKeys.delete {\"id\": \(key.id)}) "
                + "and generate another.",
            data: [
                "key": APIKeyEncoding.json(key), "revision": .int(revision), "secretFile": .string(path),
                "reason": .string(reason),
            ])
    }
}
