import Credentials
import HyperstackProtocol
import HyperstackRPCServer
import HyperstackSandbox
import InfrahubClient
import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Logging
import Synchronization
import Testing

@testable import HyperstackRPCHost

/// A real server stack in memory, built by the composition root as `serve --sandbox` builds it:
/// the method table over a key store over the Infrahub client over the embedded sandbox,
/// driven through a session's connection fed with bytes.
final class ServerHarness {
    let server: HyperstackServer
    let session: HyperstackSession
    let client = ClientEnd(framing: .ndjson)
    /// How many of `client.received` earlier exchanges have returned.
    private var consumed = 0

    var sandbox: Sandbox { server.upstream.sandbox! }

    init() throws {
        server = try HyperstackServer(settings: .inMemorySandbox, logger: Logger(label: "test"))
        session = server.openSession(framing: .ndjson, sink: client.sink, events: .ignored)
    }

    deinit {
        session.stop()
    }

    /// Sends one request and returns every message written until its response, in order.
    func exchange(_ method: String, _ params: JSON? = nil, id: Int64) async throws -> [JSON] {
        var request: JSONObject = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method)]
        if let params { request["params"] = params }
        let line = try JSON.object(request).serialized() + [UInt8(ascii: "\n")]
        line.withUnsafeBytes { session.receive($0) }
        _ = try await client.response(to: .int(id))
        let unread = client.received[consumed...]
        let end = unread.firstIndex { $0["id"] == .int(id) && $0["method"] == nil } ?? unread.endIndex - 1
        consumed = end + 1
        return Array(unread[...end])
    }

    func response(_ method: String, _ params: JSON? = nil, id: Int64) async throws -> JSON {
        try await exchange(method, params, id: id).last ?? nil
    }
}

extension Settings {
    /// `--sandbox --framing ndjson` with every other option at its default.
    static let inMemorySandbox = Settings(
        sandbox: true, sandboxState: nil, baseURL: nil, apiKeyFile: nil, accessTokenFile: nil, cacheTTL: defaults.cacheTTL,
        pollInterval: defaults.pollInterval, timeout: defaults.timeout, rateLimit: defaults.rateLimit,
        framing: .ndjson, maxMessageBytes: defaults.maxMessageBytes, maxInFlight: defaults.maxInFlight,
        logLevel: nil, logFile: nil)
}

@Suite struct APIKeyMethodsTests {
    @Test func generateReturnsTheSecretOnceAndNotifiesFirst() async throws {
        let harness = try ServerHarness()
        let messages = try await harness.exchange("apiKeys.generate", ["name": "ci", "description": "for CI"], id: 1)
        #expect(messages.count == 2)
        let notification = messages[0]
        let response = messages[1]
        #expect(notification["method"] == "apiKeys.didChange")
        #expect(notification["params"]?["cause"] == "generate")
        #expect(notification["params"]?["revision"] == response["result"]?["revision"])
        let key = try #require(response["result"]?["key"])
        let secret = try #require(key["secret"]?.stringValue)
        #expect(key["name"] == "ci")
        #expect(key["description"] == "for CI")
        #expect(key["maskedKey"]?.stringValue?.hasSuffix(String(secret.suffix(4))) == true)
        #expect(try !notification.serializedString().contains(secret))

        let listed = try await harness.response("apiKeys.list", nil, id: 2)
        #expect(try !listed.serializedString().contains(secret))
        #expect(listed["result"]?["keys"]?.arrayValue?.count == 1)
        #expect(listed["result"]?["keys"]?.arrayValue?.first?["secret"] == nil)
    }

    @Test func listIsServedFromCacheWithTheSameBytes() async throws {
        let harness = try ServerHarness()
        let first = try await harness.response("apiKeys.list", [:], id: 1)
        let second = try await harness.response("apiKeys.list", [:], id: 2)
        #expect(first["result"]?["fromCache"] == false)
        #expect(second["result"]?["fromCache"] == true)
        #expect(first["result"]?["revision"] == second["result"]?["revision"])
        #expect(await harness.sandbox.stats()[.list] == 1)
        let refreshed = try await harness.response("apiKeys.list", ["refresh": true], id: 3)
        #expect(refreshed["result"]?["fromCache"] == false)
        #expect(await harness.sandbox.stats()[.list] == 2)
    }

    @Test func updateKeepsClearsOrReplacesTheDescription() async throws {
        let harness = try ServerHarness()
        let created = try await harness.response("apiKeys.generate", ["name": "a", "description": "first"], id: 1)
        let id = try #require(created["result"]?["key"]?["id"])
        let kept = try await harness.response("apiKeys.update", ["id": id, "name": "b"], id: 2)
        #expect(kept["result"]?["key"]?["description"] == "first")
        let replaced = try await harness.response("apiKeys.update", ["id": id, "name": "b", "description": "second"], id: 3)
        #expect(replaced["result"]?["key"]?["description"] == "second")
        let cleared = try await harness.response("apiKeys.update", ["id": id, "name": "b", "description": nil], id: 4)
        #expect(cleared["result"]?["key"]?["description"] == .null)
    }

    @Test func deleteAnswersWithTheIdAndNewRevision() async throws {
        let harness = try ServerHarness()
        let created = try await harness.response("apiKeys.generate", ["name": "gone"], id: 1)
        let id = try #require(created["result"]?["key"]?["id"])
        let messages = try await harness.exchange("apiKeys.delete", ["id": id], id: 2)
        #expect(messages.first?["params"]?["removed"] == [id])
        #expect(messages.last?["result"]?["id"] == id)
        #expect(messages.last?["result"]?["revision"] == messages.first?["params"]?["revision"])
    }

    @Test func upstreamErrorsCarryTheirCodeAndData() async throws {
        let harness = try ServerHarness()
        let missing = try await harness.response("apiKeys.update", ["id": 999, "name": "x"], id: 1)
        #expect(missing["error"]?["code"] == 1404)
        #expect(missing["error"]?["data"]?["httpStatus"] == 404)
        #expect(missing["error"]?["data"]?["retryable"] == false)
        _ = try await harness.response("apiKeys.generate", ["name": "dup"], id: 2)
        let duplicate = try await harness.response("apiKeys.generate", ["name": "dup"], id: 3)
        #expect(duplicate["error"]?["code"] == 1409)
        #expect(duplicate["error"]?["data"]?["reason"] == "already_exist")
    }

    @Test func watchEchoesTheInterval() async throws {
        let harness = try ServerHarness()
        #expect(try await harness.response("apiKeys.watch", ["interval": 2], id: 1)["result"] == ["interval": 2])
        #expect(try await harness.response("apiKeys.watch", ["interval": 0.5], id: 2)["result"] == ["interval": 0.5])
        #expect(try await harness.response("apiKeys.watch", ["interval": 0], id: 3)["result"] == ["interval": 0])
        // Faster than the minimum would spin; tiny values would round to "off".
        for (id, tiny) in [(4, 0.05), (5, 1e-9)] as [(Int64, Double)] {
            let refused = try await harness.response("apiKeys.watch", ["interval": .double(tiny)], id: id)
            #expect(refused["error"]?["code"] == -32602)
        }
    }

    @Test(arguments: [
        ("apiKeys.generate", #"{"name": ""}"#, "name"),
        ("apiKeys.generate", #"{"name": "\#(String(repeating: "é", count: 201))"}"#, "name"),
        ("apiKeys.update", #"{"id": 1.5, "name": "x"}"#, "id"),  // any integer is an id (issue 10, item 14)
        ("apiKeys.update", #"{"id": 1, "name": "x", "description": 3}"#, "description"),
        ("apiKeys.delete", "[1]", "params"),
        ("apiKeys.list", #"{"maxAge": "soon"}"#, "maxAge"),
        ("apiKeys.watch", #"{"interval": -2}"#, "interval"),
    ])
    func invalidParamsNameTheFieldAndNeverReachUpstream(method: String, params: String, field: String) async throws {
        let harness = try ServerHarness()
        let response = try await harness.response(method, try JSON.parse(params), id: 1)
        #expect(response["error"]?["code"] == -32602)
        #expect(response["error"]?["data"]?["field"] == .string(field))
        let stats = await harness.sandbox.stats()
        #expect(SandboxRoute.allCases.allSatisfy { stats[$0] == 0 })
    }

    @Test func nameLengthCountsCodePoints() async throws {
        let harness = try ServerHarness()
        let name = String(repeating: "é", count: 200)
        let response = try await harness.response("apiKeys.generate", ["name": .string(name)], id: 1)
        #expect(response["result"]?["key"]?["name"] == .string(name))
    }
}

@Suite struct ServerIdentityTests {
    @Test func versionMatchesTheProtocolDocument() {
        #expect(ServerIdentity.version == ProtocolDocument.version)
    }

    @Test func discoverReturnsTheEmbeddedDocument() async throws {
        let harness = try ServerHarness()
        let response = try await harness.response("rpc.discover", nil, id: 1)
        #expect(response["result"] == ProtocolDocument.json)
        #expect(ProtocolDocument.json["openrpc"]?.stringValue?.hasPrefix("1.") == true)
    }
}

@Suite struct InitializeOptionsTests {
    @Test func readsProcessIDAndAPIKey() throws {
        let options = try InitializeOptions(params: ["processId": 42, "initializationOptions": ["apiKey": "k"]])
        #expect(options.processID == 42)
        #expect(options.credentials == UpstreamCredentials(apiKey: SecretString("k")))
        #expect(try InitializeOptions(params: nil) == InitializeOptions())
        #expect(try InitializeOptions(params: ["processId": nil]) == InitializeOptions())
    }

    @Test(arguments: [
        #"{"processId": "me"}"#, #"{"processId": 0}"#, #"{"processId": 99999999999}"#,
        #"{"initializationOptions": 3}"#, #"{"initializationOptions": {"apiKey": 3}}"#,
        #"{"initializationOptions": {"apiKey": ""}}"#,
    ])
    func rejectsWrongTypes(params: String) throws {
        let parsed = try JSON.parse(params)
        #expect(throws: RPCError.self) { try InitializeOptions(params: parsed) }
    }

    @Test func theKeyNeverShowsInDescriptions() throws {
        let options = try InitializeOptions(params: ["initializationOptions": ["apiKey": "super-secret"]])
        #expect(!String(describing: options).contains("super-secret"))
        #expect(!String(reflecting: options).contains("super-secret"))
    }
}
