import JSONRPC
import JanssonJSON
import Testing
@testable import ForwarderCore

/// The replay rules, as a value: what a forwarder sends a new daemon and answers itself.
@Suite struct ForwarderLedgerTests {
    private func message(_ text: String) -> (ClientMessage, [UInt8]) {
        let bytes = Array(text.utf8)
        return (bytes.withUnsafeBytes { ClientMessage(body: $0, options: .default) }, bytes)
    }

    private func forward(_ ledger: inout ForwarderLedger, _ text: String) {
        let (message, body) = message(text)
        ledger.forwarded(message, body: body)
    }

    private func receive(_ ledger: inout ForwarderLedger, _ text: String) -> ForwarderLedger.Disposition {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { ledger.received(DaemonReply(body: $0), body: $0) }
    }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func readsAreSentAgainInOrderAndMutationsGet1504() throws {
        var ledger = ForwarderLedger()
        forward(&ledger, #"{"jsonrpc":"2.0","id":1,"method":"apiKeys.list"}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":"g","method":"apiKeys.generate","params":{"name":"a"}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":3,"method":"apiKeys.list","params":{"refresh":true}}"#)
        let plan = ledger.replay()
        #expect(plan.resend.map(text) == [
            #"{"jsonrpc":"2.0","id":1,"method":"apiKeys.list"}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"apiKeys.list","params":{"refresh":true}}"#,
        ])
        #expect(plan.answers.count == 1)
        let answer = try JSON.parse(plan.answers[0])
        #expect(answer["id"] == .string("g"))
        #expect(answer["error"]?["code"] == .int(1504))
        #expect(answer["error"]?["message"] == .string("outcome unknown: check apiKeys.list"))
        #expect(answer["error"]?["data"]?["method"] == .string("apiKeys.generate"))
        // The mutation is settled; the reads still wait for the new daemon's answers.
        #expect(ledger.inFlight.count == 2)
        #expect(ledger.replay().answers.isEmpty)
    }

    @Test func answeredRequestsAreForgotten() {
        var ledger = ForwarderLedger()
        forward(&ledger, #"{"jsonrpc":"2.0","id":1,"method":"apiKeys.list"}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":"two","method":"apiKeys.delete","params":{"id":4}}"#)
        #expect(receive(&ledger, #"{"jsonrpc":"2.0","id":1,"result":{"keys":[]}}"#) == .forward)
        #expect(receive(&ledger, #"{"jsonrpc":"2.0","id":"two","error":{"code":1404,"message":"x"}}"#) == .forward)
        #expect(ledger.isIdle)
        let plan = ledger.replay()
        #expect(plan.resend.isEmpty && plan.answers.isEmpty)
    }

    @Test func sessionStateIsReplayedWithTheForwardersOwnIdsAndThoseAnswersAreDropped() throws {
        var ledger = ForwarderLedger()
        forward(&ledger, #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"processId":null}}"#)
        _ = receive(&ledger, #"{"jsonrpc":"2.0","id":0,"result":{}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","method":"initialized","params":{}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":1,"method":"apiKeys.watch","params":{"interval":5}}"#)
        _ = receive(&ledger, #"{"jsonrpc":"2.0","id":1,"result":{"interval":5}}"#)
        let plan = ledger.replay()
        #expect(plan.resend.count == 3)
        let initialize = try JSON.parse(plan.resend[0])
        #expect(initialize["method"] == .string("initialize"))
        #expect(initialize["params"]?["processId"] == .null)
        let replayID = try #require(initialize["id"]?.stringValue)
        #expect(replayID.hasPrefix("hyperstack-rpc-forwarder-replay-"))
        #expect(text(plan.resend[1]) == #"{"jsonrpc":"2.0","method":"initialized","params":{}}"#)
        let watch = try JSON.parse(plan.resend[2])
        #expect(watch["params"]?["interval"] == .int(5))
        let watchID = try #require(watch["id"]?.stringValue)
        #expect(receive(&ledger, #"{"jsonrpc":"2.0","id":"\#(replayID)","result":{}}"#) == .drop)
        #expect(receive(&ledger, #"{"jsonrpc":"2.0","id":"\#(watchID)","result":{"interval":5}}"#) == .drop)
        #expect(ledger.isIdle)
    }

    @Test func anInitializeStillInFlightIsSentFirstWithItsOwnId() throws {
        var ledger = ForwarderLedger()
        forward(&ledger, #"{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}"#)
        let plan = ledger.replay()
        #expect(plan.resend.map(text) == [#"{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}"#])
        #expect(receive(&ledger, #"{"jsonrpc":"2.0","id":7,"result":{}}"#) == .forward)
    }

    @Test func aBatchIsSentAgainWithoutItsMutationsAndTheirAnswersAreAddedToItsReply() throws {
        var ledger = ForwarderLedger()
        forward(
            &ledger,
            #"[{"jsonrpc":"2.0","id":1,"method":"apiKeys.list"},{"jsonrpc":"2.0","id":2,"method":"apiKeys.update","params":{"id":1,"name":"b"}}]"#)
        let plan = ledger.replay()
        #expect(plan.answers.isEmpty)
        let resent = try JSON.parse(try #require(plan.resend.first))
        #expect(resent.arrayValue?.count == 1)
        #expect(resent.arrayValue?.first?["method"] == .string("apiKeys.list"))
        let disposition = receive(&ledger, #"[{"jsonrpc":"2.0","id":1,"result":{"keys":[]}}]"#)
        guard case .forwardInstead(let combined) = disposition else {
            Issue.record("expected the batch reply to be completed, got \(disposition)")
            return
        }
        let entries = try #require(try JSON.parse(combined).arrayValue)
        #expect(entries.map { $0["id"] } == [.int(1), .int(2)])
        #expect(entries[1]["error"]?["code"] == .int(1504))
        #expect(ledger.isIdle)
    }

    @Test func aBatchOfOnlyMutationsIsAnsweredAtOnce() throws {
        var ledger = ForwarderLedger()
        forward(&ledger, #"[{"jsonrpc":"2.0","id":1,"method":"apiKeys.delete","params":{"id":3}}]"#)
        let plan = ledger.replay()
        #expect(plan.resend.isEmpty)
        let answer = try JSON.parse(try #require(plan.answers.first))
        #expect(answer.arrayValue?.first?["error"]?["code"] == .int(1504))
    }

    @Test func anAnsweredShutdownIsReplayedLast() throws {
        var ledger = ForwarderLedger()
        forward(&ledger, #"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#)
        _ = receive(&ledger, #"{"jsonrpc":"2.0","id":1,"result":null}"#)
        let plan = ledger.replay()
        #expect(try JSON.parse(try #require(plan.resend.last))["method"] == .string("shutdown"))
    }

    @Test func notificationsAndUnreadableMessagesAreNotTracked() {
        var ledger = ForwarderLedger()
        forward(&ledger, #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#)
        forward(&ledger, #"{"jsonrpc":"2.0","id":1,"result":{}}"#)
        forward(&ledger, "not json")
        #expect(ledger.isIdle)
    }
}

/// Reading the id of the daemon's answers without parsing their results.
@Suite struct DaemonReplyTests {
    private func reply(_ text: String) -> DaemonReply {
        Array(text.utf8).withUnsafeBytes { DaemonReply(body: $0) }
    }

    @Test func idsOfEveryKindAreFound() {
        #expect(reply(#"{"jsonrpc":"2.0","id":42,"result":{"a":1}}"#) == .response(Array("42".utf8)))
        #expect(reply(#"{"jsonrpc":"2.0","id":-3,"error":{}}"#) == .response(Array("-3".utf8)))
        #expect(reply(#"{"jsonrpc":"2.0","id":null,"error":{}}"#) == .response(Array("null".utf8)))
        #expect(reply(#"{"jsonrpc":"2.0","id":"a\",\"result\":b","result":1}"#) == .response(Array(#""a\",\"result\":b""#.utf8)))
    }

    @Test func theIdsMatchTheRequestsSerialisedIds() {
        for id in [RequestID.number(7), .string("x y"), .string("quote\"d")] {
            var body = Array(#"{"jsonrpc":"2.0","id":"#.utf8) + id.serialized()
            body += Array(#","result":true}"#.utf8)
            #expect(body.withUnsafeBytes { DaemonReply(body: $0) } == .response(id.serialized()))
        }
    }

    @Test func batchesAndNotifications() {
        #expect(reply(#"[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":"b","result":2}]"#)
            == .batch([Array("1".utf8), Array(#""b""#.utf8)]))
        #expect(reply(#"{"jsonrpc":"2.0","method":"apiKeys.didChange","params":{}}"#) == .other)
        #expect(reply(#"{"jsonrpc":"2.0","id":"unterminated"#) == .other)
    }
}
