import Credentials
import InfrahubClient
import LogCaptureSupport
import Testing

@Suite("Client logging")
struct InfrahubAPIClientLoggingTests {
    @Test func logsAttemptsButNeverSecrets() async throws {
        let generatedSecret = "GENERATED-4f1c-9d2e-SECRET-abcd"
        try await withServer([
            .respond(status: 429),
            .respond(status: 200, body: Bodies.generated(secret: generatedSecret)),
            .respond(status: 200, body: Bodies.list),
            .respond(status: 401, body: Bodies.error("bad key \(testAPIKey)", reason: "unauthorized")),
        ]) { server in
            let logs = LogCapture()
            let (generated, error) = try await withClient(server.baseURL, logger: logs.logger) { client in
                let generated = try await client.generateKey(name: "n", description: "d")
                _ = try await client.listKeys()
                let error = await captureError { try await client.deleteKey(id: 12) }
                return (generated, error)
            }
            #expect(generated.secret.revealed == generatedSecret)
            let lines = logs.captured
            #expect(lines.contains { $0.contains("method=POST") && $0.contains("status=429") && $0.contains("attempt=1") })
            #expect(lines.contains { $0.contains("path=/api-key/generate") && $0.contains("status=200") && $0.contains("attempt=2") })
            #expect(lines.contains { $0.contains("duration_ms=") })
            for line in lines {
                #expect(!line.contains(testAPIKey))
                #expect(!line.contains(generatedSecret))
                #expect(!line.contains("\"name\""))
            }
            let failure = try #require(error)
            #expect(!String(describing: failure).contains(testAPIKey))
            #expect(!"\(generated)".contains(generatedSecret))
        }
    }
}
