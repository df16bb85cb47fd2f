import APIKeyStore
import Credentials
import HTTPTypes
import InfrahubClient
import InfrahubWire
import LogCaptureSupport
import Logging
import Testing

/// Issue 10, item 14: a listing that repeats an id stays deterministic and is logged once.
@Suite struct KeyStoreDuplicateIDTests {
    /// Answers every request with one fixed list body.
    struct FixedListTransport: InfrahubTransport {
        var body: String
        func send(_ request: InfrahubRequest, timeout: Duration) async throws(TransportFailure) -> InfrahubResponse {
            InfrahubResponse(
                head: HTTPResponse(status: .ok, headerFields: [.contentType: "application/json"]), body: Array(body.utf8))
        }
    }

    static let body = """
        {"status": true, "message": "ok", "api_keys": [
          {"id": 7, "name": "dup-first", "description": null, "key": "********-****-****-****-********aaaa"},
          {"id": -1, "name": "negative", "description": null, "key": "********-****-****-****-********bbbb"},
          {"id": 7, "name": "dup-second", "description": "wins", "key": "********-****-****-****-********cccc"},
          {"id": 0, "name": "zero", "description": null, "key": "********-****-****-****-********dddd"}
        ]}
        """

    @Test func theLastEntryWinsAndTheDuplicatesAreLoggedOnce() async throws {
        let logs = LogCapture()
        let logger = logs.logger(label: "KeyStoreDuplicateIDTests")
        let client = InfrahubAPIClient(
            transport: FixedListTransport(body: Self.body),
            configuration: InfrahubClientConfiguration(clientVersion: "0.1.0-test", maxAttempts: 1), logger: logger)
        client.setCredentials(UpstreamCredentials(apiKey: SecretString("duplicate-test-key-0123456789")))
        let store = KeyStore(client: client, logger: logger)

        let first = try await store.list(refresh: true)
        let again = try await store.list(refresh: true)
        await store.shutdown()

        #expect(first.snapshot.keys.map(\.id) == [-1, 0, 7])
        #expect(first.snapshot.keys.first { $0.id == 7 }?.name == "dup-second")
        #expect(again.snapshot.keys == first.snapshot.keys)
        #expect(again.snapshot.revision == first.snapshot.revision)
        let warnings = logs.lines(at: .warning).filter { $0.text.contains("duplicate") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.text.contains("ids=7") == true)
        #expect(logs.all.allSatisfy { !$0.text.contains("dup-first") && !$0.text.contains("duplicate-test-key") })
    }
}
