import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

@Suite struct ConcurrencyTests {
    @Test func cancelSlowRequest() async throws {
        let started = Latch()
        let log = Counter()
        let peer = makeConnection(methods: testMethods(started: started, log: log))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":"slow-1","method":"slow"}"#))
        await started.wait()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"slow-1"}}"#))
        // The cancellation is answered at once, while the handler is still winding down.
        #expect(peer.framesWritten == 1)
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies == [json(#"{"jsonrpc":"2.0","id":"slow-1","error":{"code":-32800,"message":"Request cancelled"}}"#)])
        #expect(log.items == ["slow saw cancellation: true"], "the handler ran and saw the cancellation")
    }

    @Test func cancelOvertakesQueuedWork() async throws {
        let peer = makeConnection()
        // Request and cancel in one chunk: the cancel wins before the handler runs.
        peer.send(
            lspFrame(#"{"jsonrpc":"2.0","id":7,"method":"slow"}"#)
                + lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":7}}"#))
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await peer.messages() == [json(#"{"jsonrpc":"2.0","id":7,"error":{"code":-32800,"message":"Request cancelled"}}"#)])
    }

    @Test func lateOrUnknownCancelIsIgnored() async throws {
        let replies = try await exchange([
            #"{"jsonrpc":"2.0","id":1,"method":"sum","params":[1]}"#,
            #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":99}}"#,
            #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"nope":1}}"#,
            #"{"jsonrpc":"2.0","method":"$/cancelRequest"}"#,
        ])
        #expect(replies == [json(#"{"jsonrpc":"2.0","id":1,"result":1}"#)])
    }

    @Test func cancelInsideABatch() async throws {
        let started = Latch()
        let peer = makeConnection(methods: testMethods(started: started))
        peer.send(lspFrame(#"[{"jsonrpc":"2.0","id":1,"method":"slow"},{"jsonrpc":"2.0","id":2,"method":"sum","params":[3]}]"#))
        await started.wait()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies == [json(#"[{"jsonrpc":"2.0","id":1,"error":{"code":-32800,"message":"Request cancelled"}},{"jsonrpc":"2.0","id":2,"result":3}]"#)])
    }

    @Test func repliesMayComeOutOfOrder() async throws {
        let gate = Latch()
        let started = Latch()
        let peer = makeConnection(methods: testMethods(gate: gate, started: started))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"gated"}"#))
        await started.wait()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"sum","params":[2]}"#))
        try await peer.waitForMessages(1)
        gate.open()
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await peer.messages().map { $0["id"] } == [2, 1])
    }

    @Test func handlerNotificationsPrecedeItsResponse() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":1,"method":"chatty","params":{"x":1}}"#])
        #expect(replies == [
            json(#"{"jsonrpc":"2.0","method":"progress","params":{"step":1}}"#),
            json(#"{"jsonrpc":"2.0","method":"progress","params":{"step":2}}"#),
            json(#"{"jsonrpc":"2.0","id":1,"result":{"x":1}}"#),
        ])
    }

    @Test func batchWaitsForItsSlowestEntry() async throws {
        let gate = Latch()
        let started = Latch()
        let peer = makeConnection(methods: testMethods(gate: gate, started: started))
        peer.send(lspFrame(#"[{"jsonrpc":"2.0","id":"a","method":"gated"},{"jsonrpc":"2.0","id":"b","method":"sum","params":[1]}]"#))
        await started.wait()
        #expect(try await peer.staysSilent(for: .milliseconds(30)), "no partial batch is written")
        gate.open()
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies == [json(#"[{"jsonrpc":"2.0","id":"a","result":"released"},{"jsonrpc":"2.0","id":"b","result":1}]"#)])
    }

    @Test func finishInputCancelsWhatOutlivesTheTimeout() async throws {
        let started = Latch()
        let peer = makeConnection(methods: testMethods(started: started))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"slow"}"#))
        await started.wait()
        await peer.finishInput(timeout: .milliseconds(50))
        let replies = try await peer.messages()
        #expect(replies.count == 1)
        #expect(replies[0]["error"]?["code"] == -32800)
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"sum","params":[1]}"#))
        #expect(peer.framesWritten == 1, "input after the end is ignored")
    }

    @Test func manyPipelinedRequestsAreAllAnswered() async throws {
        let peer = makeConnection()
        var stream: [UInt8] = []
        for id in 0..<2000 {
            stream += lspFrame(#"{"jsonrpc":"2.0","id":\#(id),"method":"sum","params":[\#(id),1]}"#)
        }
        // Odd chunk sizes so frames straddle reads.
        var index = 0
        while index < stream.count {
            let end = min(index + 4093, stream.count)
            stream[index..<end].withUnsafeBytes { peer.connection.receive($0) }
            index = end
        }
        await peer.finishInput(timeout: .seconds(60))
        let replies = try await peer.messages()
        #expect(replies.count == 2000)
        let results = Dictionary(uniqueKeysWithValues: replies.map { ($0["id"]!.intValue!, $0["result"]!.intValue!) })
        #expect((0..<2000).allSatisfy { results[Int64($0)] == Int64($0) + 1 })
    }

    @Test func serverNotificationsUseTheInputFraming() async throws {
        let peer = makeConnection()
        peer.send(bytes(#"{"jsonrpc":"2.0","id":1,"method":"sum","params":[1]}"# + "\n"))
        await peer.finishInput(timeout: .seconds(20))
        peer.connection.notify("keys/changed", params: ["count": 2])
        #expect(peer.connection.framing == .ndjson)
        #expect(try await peer.messages().last == json(#"{"jsonrpc":"2.0","method":"keys/changed","params":{"count":2}}"#))
    }
}
