import Credentials
import InfrahubClient
import Logging
import Testing

/// The API key the tests authenticate with; it must never show up in logs or errors.
let testAPIKey = "test-api-key-0123456789-SECRET"

/// JSON bodies shaped like Infrahub's answers.
enum Bodies {
    static let list = """
        {"status": true, "message": "Success", "api_keys": [
          {"id": 7, "name": "ci", "description": "for CI", "key": "********-****-****-****-********be9a",
           "created_at": "2026-05-06T15:18:42"}]}
        """

    static func generated(secret: String) -> String {
        """
        {"status": true, "message": "API key generated", "api_key": {"id": 12, "name": "new", "description": null,
         "key": "\(secret)", "created_at": "2026-05-06T15:18:42Z"}}
        """
    }

    static let updated = """
        {"status": true, "message": "Updated", "api_key": {"id": 12, "name": "renamed", "description": "d",
         "key": "********-****-****-****-********be9a", "created_at": "2026-05-06T15:18:42.250+02:00"}}
        """

    static let deleted = #"{"status": true, "message": "API key deleted"}"#

    static func error(_ message: String, reason: String) -> String {
        #"{"status": false, "message": "\#(message)", "error_reason": "\#(reason)"}"#
    }
}

/// Runs `body` with a client speaking real HTTP to `baseURL`, and shuts the transport down afterwards.
func withClient<T>(
    _ baseURL: String,
    maxAttempts: Int = 3,
    requestTimeout: Duration = .seconds(5),
    maxBackoff: Duration = .milliseconds(50),
    requestsPerMinute: Int = 100_000,
    logger: Logger = Logger(label: "infrahub-client-tests", factory: { _ in SwiftLogNoOpLogHandler() }),
    credential: String? = testAPIKey,
    accessToken: String? = nil,
    _ body: (InfrahubAPIClient) async throws -> T
) async throws -> T {
    let transport = try makeTransport(baseURL, connectTimeout: .seconds(2))
    let client = InfrahubAPIClient(
        transport: transport,
        configuration: InfrahubClientConfiguration(
            clientVersion: "1.2.3", requestTimeout: requestTimeout, maxAttempts: maxAttempts,
            initialBackoff: .milliseconds(1), maxBackoff: maxBackoff, requestsPerMinute: requestsPerMinute),
        logger: logger)
    client.setCredentials(
        UpstreamCredentials(apiKey: credential.map(SecretString.init), accessToken: accessToken.map(SecretString.init)))
    let result: T
    do {
        result = try await body(client)
    } catch {
        try await transport.shutdown()
        throw error
    }
    try await transport.shutdown()
    return result
}

/// A transport for `baseURL`, checked the way the server checks its base URL at start-up.
func makeTransport(
    _ baseURL: String, connectTimeout: Duration = .seconds(10), readIdleTimeout: Duration? = nil
) throws -> AsyncHTTPTransport {
    AsyncHTTPTransport(
        baseURL: try AsyncHTTPTransport.validatedBaseURL(baseURL), connectTimeout: connectTimeout,
        readIdleTimeout: readIdleTimeout)
}

/// Runs `body` against a scripted server and stops the server afterwards.
func withServer<T>(
    _ replies: [ScriptedReply], fallback: ScriptedReply? = nil, _ body: (ScriptedHTTPServer) async throws -> T
) async throws -> T {
    let server =
        if let fallback { try await ScriptedHTTPServer.start(replies, fallback: fallback) } else {
            try await ScriptedHTTPServer.start(replies)
        }
    let result: T
    do {
        result = try await body(server)
    } catch {
        try await server.stop()
        throw error
    }
    try await server.stop()
    return result
}

/// The error an async call threw, for inspecting more than its type.
func captureError(_ body: () async throws -> Void) async -> InfrahubError? {
    do {
        try await body()
        return nil
    } catch let error as InfrahubError {
        return error
    } catch {
        Issue.record("expected an InfrahubError, got \(error)")
        return nil
    }
}
