import JSONRPC
import JanssonJSON
import Testing
@testable import ForwarderCore

/// The replay rules for an MCP session (`SessionRules.mcp`): the handshake and subscriptions
/// are replayed, mutating tool calls get an `isError` result, cancelled requests are forgotten.
@Suite struct MCPLedgerTests {
    private func forward(_ ledger: inout ForwarderLedger, _ text: String) {
        let bytes = Array(text.utf8)
        let message = bytes.withUnsafeBytes { ClientMessage(body: $0, options: .default, rules: .mcp) }
        ledger.forwarded(message, body: bytes)
    }

    private func receive(_ ledger: inout ForwarderLedger, _ text: String) -> ForwarderLedger.Disposition {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { ledger.received(DaemonReply(body: $0), body: $0) }
    }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func theHandshakeAndTheSubscriptionsInForceAreReplayedAndTheirAnswersDropped() throws {
        var ledger = ForwarderLedger(rules: .mcp)
        forward(&ledger, #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#)
        _ = receive(&ledger, #"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18"}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"hyperstack://api-keys"}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"hyperstack://api-keys/7"}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"debug"}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":4,"method":"resources/unsubscribe","params":{"uri":"hyperstack://api-keys/7"}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":5,"method":"logging/setLevel","params":{"level":"error"}}"#)
        for id in 1...5 { #expect(receive(&ledger, #"{"jsonrpc":"2.0","id":\#(id),"result":{}}"#) == .forward) }
        #expect(ledger.isIdle)

        let plan = ledger.replay()
        #expect(plan.answers.isEmpty)
        let sent = try plan.resend.map { try JSON.parse($0) }
        #expect(sent.map { $0["method"]?.stringValue } == [
            "initialize", "notifications/initialized", "resources/subscribe", "logging/setLevel",
        ])
        #expect(sent[0]["params"]?["protocolVersion"] == .string("2025-06-18"))
        #expect(sent[1]["id"] == nil)
        #expect(sent[2]["params"]?["uri"] == .string("hyperstack://api-keys"))
        #expect(sent[3]["params"]?["level"] == .string("error"))
        for message in [sent[0], sent[2], sent[3]] {
            let id = try #require(message["id"]?.stringValue)
            #expect(id.hasPrefix("hyperstack-rpc-forwarder-replay-"))
            #expect(receive(&ledger, #"{"jsonrpc":"2.0","id":"\#(id)","result":{}}"#) == .drop)
        }
        #expect(ledger.isIdle)
    }

    @Test func aMutatingToolCallInFlightGetsAnErrorResultAndReadsAreSentAgain() throws {
        var ledger = ForwarderLedger(rules: .mcp)
        let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_api_keys","arguments":{}}}"#
        forward(&ledger, list)
        forward(&ledger, #"{"jsonrpc":"2.0","id":"g","method":"tools/call","params":{"name":"generate_api_key","arguments":{"name":"a"}}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"arguments":{"id":1},"name":"delete_api_key"}}"#)
        let read = #"{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"hyperstack://api-keys"}}"#
        forward(&ledger, read)
        let plan = ledger.replay()
        #expect(plan.resend.map(text) == [list, read])
        #expect(plan.answers.count == 2)
        let answers = try plan.answers.map { try JSON.parse($0) }
        #expect(answers.map { $0["id"] } == [.string("g"), .int(3)])
        for (answer, tool) in zip(answers, ["generate_api_key", "delete_api_key"]) {
            #expect(answer["error"] == nil)
            #expect(answer["result"]?["isError"] == .bool(true))
            let message = try #require(answer["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue)
            #expect(message.contains(tool) && message.contains("list_api_keys"))
        }
        #expect(ledger.inFlight.count == 2)
    }

    @Test func aCancelledRequestIsForgottenAndNeverSentAgain() {
        var ledger = ForwarderLedger(rules: .mcp)
        forward(&ledger, #"{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"list_api_keys","arguments":{"refresh":true}}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"generate_api_key","arguments":{"name":"x"}}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow","reason":"timeout"}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}"#)
        #expect(ledger.isIdle)
        let plan = ledger.replay()
        #expect(plan.resend.isEmpty && plan.answers.isEmpty)
    }

    @Test func aStatelessSessionReplaysNoHandshakeAndReopensAnOpenListen() throws {
        var ledger = ForwarderLedger(rules: .mcp)
        let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#
        forward(&ledger, #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(meta)}}"#)
        _ = receive(&ledger, #"{"jsonrpc":"2.0","id":1,"result":{}}"#)
        let listen = #"{"jsonrpc":"2.0","id":2,"method":"subscriptions/listen","params":{\#(meta)}}"#
        forward(&ledger, listen)
        let plan = ledger.replay()
        #expect(plan.resend.map(text) == [listen])
        #expect(plan.answers.isEmpty)
        #expect(receive(&ledger, #"{"jsonrpc":"2.0","id":2,"result":{}}"#) == .forward)
        #expect(ledger.isIdle)
    }

    @Test func anInitializeStillInFlightIsSentFirstWithTheClientsId() {
        var ledger = ForwarderLedger(rules: .mcp)
        let initialize = #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#
        forward(&ledger, #"{"jsonrpc":"2.0","id":"p","method":"ping"}"#)
        forward(&ledger, initialize)
        let plan = ledger.replay()
        #expect(plan.resend.map(text) == [initialize, #"{"jsonrpc":"2.0","id":"p","method":"ping"}"#])
    }

    @Test func requestsTheDaemonSendsTheClientAreNotAnswers() {
        let request = Array(#"{"jsonrpc":"2.0","id":5,"method":"elicitation/create","params":{}}"#.utf8)
        #expect(request.withUnsafeBytes { DaemonReply(body: $0) } == .other)
        var ledger = ForwarderLedger(rules: .mcp)
        forward(&ledger, #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete_api_key","arguments":{"id":1}}}"#)
        #expect(request.withUnsafeBytes { ledger.received(DaemonReply(body: $0), body: $0) } == .forward)
        #expect(ledger.inFlight.count == 1)
        // The client's answer to it is forwarded untracked.
        forward(&ledger, #"{"jsonrpc":"2.0","id":5,"result":{"action":"accept","content":{"confirm":true}}}"#)
        #expect(ledger.inFlight.count == 1)
    }

    @Test func whichRequestsChangeKeys() {
        #expect(SessionRules.jsonRPC.isMutation("apiKeys.generate", params: nil))
        #expect(!SessionRules.jsonRPC.isMutation("apiKeys.list", params: nil))
        #expect(!SessionRules.jsonRPC.isMutation("tools/call", params: ["name": "generate_api_key"]))
        #expect(SessionRules.mcp.isMutation("tools/call", params: ["name": "update_api_key"]))
        #expect(!SessionRules.mcp.isMutation("tools/call", params: ["name": "list_api_keys"]))
        #expect(!SessionRules.mcp.isMutation("tools/call", params: ["name": 7]))
        #expect(!SessionRules.mcp.isMutation("apiKeys.generate", params: nil))
    }

    @Test func jsonRPCSessionsKeepTheirRules() {
        // LSP's exit ends the forwarder; MCP has none, and its cancel notification is MCP's own.
        #expect(SessionRules.jsonRPC.notification("exit", message: nil) == .exits)
        #expect(SessionRules.mcp.notification("exit", message: nil) == .none)
        #expect(SessionRules.jsonRPC.notification("notifications/cancelled", message: ["params": ["requestId": 1]]) == .none)
        #expect(SessionRules.mcp.notification("notifications/cancelled", message: ["params": ["requestId": 1]]) == .cancels(Array("1".utf8)))
        #expect(SessionRules.mcp.request("shutdown", message: nil) == SessionRules.RequestRule())
    }
}
