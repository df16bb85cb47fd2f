import HyperstackMCP
import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

/// `delete_api_key` asks for confirmation with `elicitation/create` when the client declared
/// elicitation, on a real session over the embedded sandbox.
@Suite struct MCPElicitationTests {
    /// A harness with one generated key; returns the key's id.
    private static func harness(version: String, capabilities: JSON) async throws -> (MCPHarness, Int64) {
        let harness = try MCPHarness()
        _ = try await harness.initialize(version: version, capabilities: capabilities)
        let generated = try await harness.callTool("generate_api_key", ["name": "doomed"])
        let id = try #require(generated["result"]?["structuredContent"]?["key"]?["id"]?.intValue)
        return (harness, id)
    }

    /// Starts a delete and returns its request id and the elicitation request the server sent.
    private static func startDelete(_ harness: MCPHarness, id: Int64) async throws -> (call: JSON, elicitation: JSON) {
        let call = try harness.start("tools/call", ["name": "delete_api_key", "arguments": ["id": .int(id)]])
        var elicitation = try await harness.client.nextMessage()
        while elicitation["method"] != "elicitation/create", elicitation["id"] != call {
            elicitation = try await harness.client.nextMessage()
        }
        #expect(elicitation["method"] == "elicitation/create")
        #expect(elicitation["id"]?.stringValue != nil)
        return (call, elicitation)
    }

    private static func answer(_ harness: MCPHarness, _ elicitation: JSON, result: JSON) throws {
        try harness.send(["jsonrpc": "2.0", "id": elicitation["id"] ?? .null, "result": result])
    }

    private static func listedIDs(_ harness: MCPHarness) async throws -> [Int64] {
        let listed = try await harness.callTool("list_api_keys", ["refresh": true])
        return (listed["result"]?["structuredContent"]?["keys"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue }
    }

    @Test func acceptWithConfirmDeletes() async throws {
        let (harness, id) = try await Self.harness(version: "2025-11-25", capabilities: ["elicitation": ["form": [:]]])
        let (call, elicitation) = try await Self.startDelete(harness, id: id)
        let params = elicitation["params"]
        #expect(params?["mode"] == "form")
        #expect(params?["message"]?.stringValue?.contains("'doomed' (id \(id))") == true)
        #expect(params?["requestedSchema"]?["properties"]?["confirm"]?["type"] == "boolean")
        #expect(params?["requestedSchema"]?["required"] == ["confirm"])
        try Self.answer(harness, elicitation, result: ["action": "accept", "content": ["confirm": true]])
        let result = try await harness.client.response(to: call)["result"]
        #expect(result?["isError"] == false)
        #expect(result?["structuredContent"]?["id"] == .int(id))
        #expect(result?["structuredContent"]?["deleted"] == nil)
        #expect(try await Self.listedIDs(harness) == [])
    }

    @Test(arguments: [
        ("declined", JSON.object(["action": "decline"])),
        ("cancelled", JSON.object(["action": "cancel"])),
        ("unconfirmed", JSON.object(["action": "accept", "content": ["confirm": false]])),
    ])
    func aPersonsNoKeepsTheKey(expected: String, answer: JSON) async throws {
        let (harness, id) = try await Self.harness(version: "2025-11-25", capabilities: ["elicitation": [:]])
        let (call, elicitation) = try await Self.startDelete(harness, id: id)
        try Self.answer(harness, elicitation, result: answer)
        let result = try await harness.client.response(to: call)["result"]
        #expect(result?["isError"] == false)
        let structured = result?["structuredContent"]
        #expect(structured?["deleted"] == false)
        #expect(structured?["id"] == .int(id))
        #expect(structured?["revision"]?.intValue != nil)
        #expect(structured?["confirmation"] == .string(expected))
        #expect(structured?["message"]?.stringValue?.hasPrefix("Nothing was deleted") == true)
        #expect(try await Self.listedIDs(harness) == [id])
    }

    @Test func anErrorResponseDeletesNothingAndSaysSo() async throws {
        let (harness, id) = try await Self.harness(version: "2025-11-25", capabilities: ["elicitation": [:]])
        let (call, elicitation) = try await Self.startDelete(harness, id: id)
        try harness.send([
            "jsonrpc": "2.0", "id": elicitation["id"] ?? .null, "error": ["code": -32601, "message": "no forms today"],
        ])
        let result = try await harness.client.response(to: call)["result"]
        #expect(result?["isError"] == true)
        #expect(result?["content"]?[0]?["text"]?.stringValue?.contains("Nothing was deleted") == true)
        #expect(try await Self.listedIDs(harness) == [id])
    }

    @Test func cancellingTheCallWhileTheFormIsOpenDeletesNothing() async throws {
        let (harness, id) = try await Self.harness(version: "2025-11-25", capabilities: ["elicitation": [:]])
        let (call, elicitation) = try await Self.startDelete(harness, id: id)
        try harness.send(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": call]])
        let told = try await harness.client.notification("notifications/cancelled")
        #expect(told["params"]?["requestId"] == elicitation["id"])
        // A late yes finds nobody waiting.
        try Self.answer(harness, elicitation, result: ["action": "accept", "content": ["confirm": true]])
        #expect(try await Self.listedIDs(harness) == [id])
        #expect(harness.client.received.allSatisfy { $0["id"] != call }, "a cancelled call gets no response")
    }

    @Test func revision20250618AsksWithoutAMode() async throws {
        let (harness, id) = try await Self.harness(version: "2025-06-18", capabilities: ["elicitation": [:]])
        let (call, elicitation) = try await Self.startDelete(harness, id: id)
        #expect(elicitation["params"]?["mode"] == nil)
        #expect(elicitation["params"]?["requestedSchema"]?["properties"]?["confirm"] != nil)
        try Self.answer(harness, elicitation, result: ["action": "decline"])
        #expect(try await harness.client.response(to: call)["result"]?["structuredContent"]?["deleted"] == false)
    }

    @Test(arguments: [
        ("2025-11-25", JSON.object([:])),
        ("2025-11-25", JSON.object(["elicitation": ["url": [:]]])),
        ("2025-03-26", JSON.object(["elicitation": [:]])),
        ("2024-11-05", JSON.object(["elicitation": [:]])),
    ])
    func withoutFormElicitationTheDeleteProceeds(version: String, capabilities: JSON) async throws {
        let (harness, id) = try await Self.harness(version: version, capabilities: capabilities)
        let response = try await harness.callTool("delete_api_key", ["id": .int(id)])
        #expect(response["result"]?["structuredContent"]?["id"] == .int(id))
        #expect(response["result"]?["isError"] == false)
        #expect(harness.client.received.allSatisfy { $0["method"] != "elicitation/create" })
        #expect(try await Self.listedIDs(harness) == [])
    }
}
