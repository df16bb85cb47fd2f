import HyperstackSandbox
import JSONRPC
import JanssonJSON
import Logging
import SecureFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension HyperstackServer {
    /// How long a call waits for another process to release `--sandbox-state`.
    static let stateLockWait = Duration.seconds(10)

    /// Runs one request through a session like any other (same connection, same method table,
    /// same change notifications, which it skips), then writes the result to stdout or the
    /// error to stderr. Returns the response and the exit status that says which happened
    /// (see `CallOutcome`).
    package static func call(
        _ method: String, params: JSON?, settings: Settings, secretFiles: SecretFilePolicy? = nil, logger: Logger
    ) async throws -> CallOutcome {
        // A reader that went away is EPIPE, reported below, not a silent death by SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        // One-shot calls queue for the state file rather than fail at once; a server holds it for its life.
        let stateLock = try settings.sandboxState.map { try SandboxStateLock(statePath: $0, wait: Self.stateLockWait) }
        let server = try HyperstackServer(settings: settings, secretFiles: secretFiles, logger: logger)
        let responses = ResponseCollector()
        let session = server.openSession(framing: .ndjson, sink: responses, events: .ignored)

        var request: JSONObject = ["jsonrpc": "2.0", "id": 1, "method": .string(method)]
        if let params { request["params"] = params }
        let line = try JSON.object(request).serialized() + [UInt8(ascii: "\n")]
        line.withUnsafeBytes { session.receive($0) }

        let response = await responses.response(id: 1)
        session.stop()
        await server.shutdown()
        withExtendedLifetime(stateLock) {}
        return try CallOutcome.deliver(response, of: method)
    }
}
