import Foundation
import HyperstackMCP
import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

@Suite struct MCPLifecycleTests {
    @Test func onlyPingMayComeBeforeInitialize() {
        var lifecycle = MCPLifecycle()
        #expect(lifecycle.admit(request: "ping") == .proceed)
        guard case .refuse(let error) = lifecycle.admit(request: "tools/list") else {
            Issue.record("tools/list before initialize was admitted")
            return
        }
        #expect(error.code == RPCError.Code.invalidRequest)
        #expect(lifecycle.admit(request: "initialize") == .initialize)
        #expect(lifecycle.admit(request: "tools/list") == .proceed)
        guard case .refuse = lifecycle.admit(request: "initialize") else {
            Issue.record("a second initialize was admitted")
            return
        }
        #expect(lifecycle.admit(notification: "notifications/initialized") == .proceed)
    }
}

@Suite struct MCPSessionTests {
    @Test func initializeAnswersTheClientsVersionOrOurLatest() async throws {
        for version in MCPProtocolVersion.supported {
            let harness = try MCPHarness()
            let result = try await harness.initialize(version: version)["result"]
            #expect(result?["protocolVersion"] == .string(version))
            #expect(result?["serverInfo"]?["name"] == "hyperstack-rpc")
            #expect(result?["capabilities"]?["resources"]?["subscribe"] == true)
            #expect(result?["instructions"]?.stringValue?.contains("never the secret") == true)
        }
        let harness = try MCPHarness()
        #expect(try await harness.initialize(version: "1999-01-01")["result"]?["protocolVersion"] == "2025-11-25")
    }

    @Test func toolsListHasTheFourToolsWithTheirHints() async throws {
        let harness = try MCPHarness()
        _ = try await harness.initialize()
        let tools = try #require(try await harness.request("tools/list")["result"]?["tools"]?.arrayValue)
        let byName = Dictionary(uniqueKeysWithValues: tools.map { ($0["name"]?.stringValue ?? "", $0) })
        let expected: [String: [Bool]] = [
            "list_api_keys": [true, false, true, false], "generate_api_key": [false, false, false, false],
            "update_api_key": [false, false, true, false], "delete_api_key": [false, true, true, false],
        ]
        #expect(Set(byName.keys) == Set(expected.keys))
        for (name, hints) in expected {
            let annotations = byName[name]?["annotations"]
            let actual = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"].map { annotations?[$0]?.boolValue }
            #expect(actual == hints.map { Optional($0) }, "\(name)")
            #expect(byName[name]?["inputSchema"]?["type"] == "object")
            #expect(byName[name]?["outputSchema"]?["type"] == "object")
            #expect(byName[name]?["title"]?.stringValue?.isEmpty == false)
        }
    }

    @Test func generateWritesTheSecretToAFileAndNoMessageCarriesIt() async throws {
        let harness = try MCPHarness()
        _ = try await harness.initialize()
        let response = try await harness.callTool("generate_api_key", ["name": "ci"])
        let result = try #require(response["result"])
        #expect(result["isError"] == false)
        let path = try #require(result["structuredContent"]?["secretFile"]?.stringValue)
        let id = try #require(result["structuredContent"]?["key"]?["id"]?.intValue)
        #expect(path == harness.secretsDirectory + "/\(id)")
        let secret = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(!secret.isEmpty)
        #expect(result["structuredContent"]?["key"]?["secret"] == nil)
        let structured = try #require(result["structuredContent"])
        #expect(result["content"]?[0]?["text"] == .string(try structured.serializedString()))
        for message in try await harness.client.messages() {
            #expect(try !message.serializedString().contains(secret))
        }
    }

    @Test func inlineSecretsPutTheSecretInTheResult() async throws {
        let harness = try MCPHarness(inlineSecrets: true)
        _ = try await harness.initialize()
        let result = try await harness.callTool("generate_api_key", ["name": "ci"])["result"]
        #expect(result?["structuredContent"]?["key"]?["secret"]?.stringValue?.isEmpty == false)
        #expect(result?["structuredContent"]?["secretFile"] == nil)
    }

    @Test func businessErrorsAreToolResultsSayingWhatToDo() async throws {
        let harness = try MCPHarness()
        _ = try await harness.initialize()
        let missing = try await harness.callTool("delete_api_key", ["id": 424242])["result"]
        #expect(missing?["isError"] == true)
        #expect(missing?["content"]?[0]?["text"]?.stringValue?.contains("No API key with id 424242") == true)
        _ = try await harness.callTool("generate_api_key", ["name": "twice"])
        let duplicate = try await harness.callTool("generate_api_key", ["name": "twice"])["result"]
        #expect(duplicate?["isError"] == true)
        #expect(duplicate?["content"]?[0]?["text"]?.stringValue?.contains("already exists") == true)
    }

    @Test func argumentErrorsFollowTheNegotiatedRevision() async throws {
        let modern = try MCPHarness()
        _ = try await modern.initialize(version: "2025-11-25")
        let asResult = try await modern.callTool("delete_api_key", ["id": "seven"])
        #expect(asResult["result"]?["isError"] == true)
        #expect(asResult["result"]?["content"]?[0]?["text"]?.stringValue?.contains("'id'") == true)

        let older = try MCPHarness()
        _ = try await older.initialize(version: "2025-06-18")
        let asError = try await older.callTool("delete_api_key", ["id": "seven"])
        #expect(asError["error"]?["code"] == .int(Int64(RPCError.Code.invalidParams)))
        #expect(asError["error"]?["data"]?["field"] == "id")
        let unknownArgument = try await older.callTool("list_api_keys", ["refreshh": true])
        #expect(unknownArgument["error"]?["data"]?["field"] == "refreshh")

        for harness in [modern, older] {
            let unknownTool = try await harness.callTool("drop_tables", [:])
            #expect(unknownTool["error"]?["code"] == .int(Int64(RPCError.Code.invalidParams)))
            #expect(unknownTool["error"]?["message"]?.stringValue?.contains("Unknown tool") == true)
        }
    }

    @Test func aSubscriberHearsOfAChangeBeforeTheResultThatCausedIt() async throws {
        let harness = try MCPHarness()
        _ = try await harness.initialize()
        #expect(try await harness.request("resources/subscribe", ["uri": "hyperstack://api-keys"])["result"] == [:])
        let before = harness.client.received.count
        _ = try await harness.callTool("generate_api_key", ["name": "watched"])
        let methods = harness.client.received[before...].map { $0["method"]?.stringValue ?? "response" }
        #expect(methods == ["notifications/resources/updated", "notifications/resources/list_changed", "response"])
        #expect(harness.client.received[before]["params"]?["uri"] == "hyperstack://api-keys")
    }

    @Test func resourcesReadTheMaskedListAndOneKey() async throws {
        let harness = try MCPHarness()
        _ = try await harness.initialize()
        let generated = try await harness.callTool("generate_api_key", ["name": "one"])
        let id = try #require(generated["result"]?["structuredContent"]?["key"]?["id"]?.intValue)
        let list = try await harness.request("resources/read", ["uri": "hyperstack://api-keys"])
        let listText = try #require(list["result"]?["contents"]?[0]?["text"]?.stringValue)
        #expect(try JSON.parse(listText)["keys"]?[0]?["id"] == .int(id))
        let one = try await harness.request("resources/read", ["uri": .string("hyperstack://api-keys/\(id)")])
        #expect(one["result"]?["contents"]?[0]?["mimeType"] == "application/json")
        let missing = try await harness.request("resources/read", ["uri": "hyperstack://api-keys/999999"])
        #expect(missing["error"]?["code"] == -32002)
        let templates = try await harness.request("resources/templates/list")
        #expect(templates["result"]?["resourceTemplates"]?[0]?["uriTemplate"] == "hyperstack://api-keys/{id}")
    }

    @Test func aCancelledRequestGetsNoAnswerAtAll() async throws {
        var methods = MethodTable()
        methods.register("slow") { _, _ in
            try await Task.sleep(for: .seconds(30))
            return .json([:])
        }
        let state = MCPConnectionState()
        let connection = MemoryConnection(
            configuration: ConnectionConfiguration(framing: .ndjson),
            session: MCPSession(state: state, instructions: ""), methods: methods)
        connection.send(line: #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"#)
        _ = try await connection.response(to: 1)
        connection.send(line: #"{"jsonrpc":"2.0","id":2,"method":"slow"}"#)
        connection.send(line: #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"user"}}"#)
        connection.send(line: #"{"jsonrpc":"2.0","id":3,"method":"ping"}"#)
        #expect(try await connection.response(to: 3)["result"] == [:])
        let all = try await connection.finish(timeout: .seconds(5))
        #expect(!all.contains { $0["id"] == 2 })
    }
}
