import APIKeyStore
import Credentials
import InfrahubClient
import SecureFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Creates a key and hands its secret over where the caller asked: in the answer, or in a new
/// file. JSON-RPC's `apiKeys.generate` and MCP's `generate_api_key` both come here, so a secret
/// file follows the same rules whichever protocol asked for it.
///
/// The order is what keeps track of every key: the file's place is checked, and a file the
/// caller named is created empty, *before* the key exists upstream, so a path that cannot work
/// costs nothing; once the key exists, a write that still fails is reported with the key, never
/// as a plain error, so the caller can delete the key whose secret nobody has.
package enum KeyGeneration {
    /// Where the secret goes.
    package enum Destination: Sendable, Equatable {
        /// Into the answer.
        case inline
        /// A file the caller named, already placed by the policy (`SecretFilePath.resolve`).
        case file(SecretFilePath)
        /// A file in the secrets directory named after the key's id.
        case namedAfterKey(SecretFilePolicy)
    }

    /// What became of the secret.
    package enum Delivery: Sendable {
        case inline(SecretString)
        case written(path: String)
        /// The key exists, but its secret could not be written, and nobody has it now.
        case notWritten(path: String, reason: String)
    }

    /// A key that now exists upstream, and where its secret went.
    package struct Outcome: Sendable {
        package var key: APIKeyRecord
        package var revision: Int64
        package var delivery: Delivery
    }

    /// Why no key was created.
    package enum Failure: Error, Sendable {
        /// The secret file cannot be created there; nothing was sent upstream.
        case secretFileRefused(SecureFileError)
        /// The request was cancelled before it reached upstream.
        case cancelled
        /// Upstream refused or failed.
        case upstream(InfrahubError)
    }

    /// Most names tried for an id-named file (`42`, `42-2`, ...) when earlier ones exist: a
    /// sandbox that starts again hands out the same ids.
    static let idNameAttempts = 20

    /// Generates a key.
    /// - Parameter commit: called once the destination is ready and just before the upstream
    ///   call (`RequestContext.commitToCompletion`); `false` means the request was cancelled.
    package static func generate(
        store: KeyStore, name: String, description: String?, destination: Destination, commit: () -> Bool
    ) async throws(Failure) -> Outcome {
        switch destination {
        case .inline:
            guard commit() else { throw .cancelled }
            let generated = try await upstream(store, name, description)
            return Outcome(key: generated.key.record, revision: generated.revision, delivery: .inline(generated.key.secret))
        case .file(let path):
            let reserved: ReservedSecretFile
            do {
                let directory = try SecretFileWriter.openDirectory(of: path)
                reserved = try directory.create(path.components[path.components.count - 1])
            } catch {
                throw .secretFileRefused(error)
            }
            guard commit() else {
                reserved.discard()
                throw .cancelled
            }
            let generated: (key: GeneratedAPIKey, revision: Int64)
            do {
                generated = try await upstream(store, name, description)
            } catch {
                reserved.discard()
                throw error
            }
            let filePath = reserved.path
            let delivery: Delivery
            do {
                try reserved.write(secret: generated.key.secret.revealed)
                delivery = .written(path: filePath)
            } catch {
                delivery = .notWritten(path: filePath, reason: error.reason)
            }
            return Outcome(key: generated.key.record, revision: generated.revision, delivery: delivery)
        case .namedAfterKey(let policy):
            let directory: SecretDirectory
            do {
                directory = try SecretFileWriter.openSecretsDirectory(policy)
            } catch {
                throw .secretFileRefused(error)
            }
            guard commit() else { throw .cancelled }
            let generated = try await upstream(store, name, description)
            let delivery = write(generated.key, into: directory)
            return Outcome(key: generated.key.record, revision: generated.revision, delivery: delivery)
        }
    }

    /// Writes the secret to `<id>` in `directory`, or the first free of `<id>-2`, `<id>-3`, ...
    private static func write(_ key: GeneratedAPIKey, into directory: borrowing SecretDirectory) -> Delivery {
        let id = String(key.record.id)
        var lastError = SecureFileError(role: SecretFileWriter.role, path: directory.path + "/" + id, reason: "no free name")
        for attempt in 1...idNameAttempts {
            let name = attempt == 1 ? id : "\(id)-\(attempt)"
            do {
                let reserved = try directory.create(name)
                let path = reserved.path
                do {
                    try reserved.write(secret: key.secret.revealed)
                    return .written(path: path)
                } catch {
                    return .notWritten(path: path, reason: error.reason)
                }
            } catch {
                lastError = error
                if error.code != EEXIST { break }
            }
        }
        return .notWritten(path: lastError.path, reason: lastError.reason)
    }

    private static func upstream(
        _ store: KeyStore, _ name: String, _ description: String?
    ) async throws(Failure) -> (key: GeneratedAPIKey, revision: Int64) {
        do {
            return try await store.generate(name: name, description: description)
        } catch {
            throw .upstream(error)
        }
    }
}
