import JSONRPC
import JanssonJSON
import Testing

/// Issue 10, item 3: the work in flight is capped, and at the cap new requests are
/// answered at once with -32802 while cancellations and task-free answers still flow.
@Suite struct InFlightLimitTests {
    private static let busy = RPCError.Code.serverCancelled

    private func codes(_ sink: CollectingSink) throws -> [JSON?] {
        try messages(sink).map { $0["error"]?["code"] }
    }

    /// Sends `sum` until one is admitted again (a finishing task frees its place a moment
    /// after its cancellation was answered); false if that never happens.
    private func admittedAgain(_ connection: RPCConnection, _ sink: CollectingSink, id: Int) async throws -> Bool {
        for attempt in 0..<2000 {
            let before = sink.written.count
            connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":"\#(id)-\#(attempt)","method":"sum","params":[1]}"#))
            #expect(await sink.waitForFrames(before + 1))
            let last = try JSON.parse(bodies(of: [sink.written[before]], framing: .lsp)[0])
            if last["result"] == 1 { return true }
            #expect(last["error"]?["code"] == .int(Int64(Self.busy)))
            try await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    @Test func atTheCapANewRequestIsAnsweredAtOnceWith32802() async throws {
        let (connection, sink) = makeConnection(maxInFlight: 2)
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"slow"}"#))
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"slow"}"#))
        #expect(sink.written.isEmpty)
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":3,"method":"slow"}"#))
        // Answered before `receive` returned: no task was started for it.
        let refusal = try messages(sink)
        #expect(refusal.count == 1)
        #expect(refusal.first?["id"] == 3)
        #expect(refusal.first?["error"]?["code"] == .int(Int64(Self.busy)))
        let message = refusal.first?["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("2 requests") && message.contains("retry"))

        // $/ping and unknown methods need no task, so they are never refused.
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":4,"method":"$/ping"}"#))
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":5,"method":"nope"}"#))
        #expect(try messages(sink).dropFirst().map { $0["result"] ?? $0["error"]?["code"] } == [json("{}"), -32601])

        // A cancellation still gets through, and frees a place once the task has ended.
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        #expect(try messages(sink).last == json(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32800,"message":"Request cancelled"}}"#))
        #expect(try await admittedAgain(connection, sink, id: 6))
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}"#))
        await connection.finishInput(timeout: .seconds(20))
    }

    @Test func eachEntryOfABatchIsAdmittedOrRefused() async throws {
        let (connection, sink) = makeConnection(maxInFlight: 2)
        connection.receive(lspFrame(
            #"[{"jsonrpc":"2.0","id":1,"method":"slow"},{"jsonrpc":"2.0","id":2,"method":"slow"},"#
                + #"{"jsonrpc":"2.0","id":3,"method":"slow"},{"jsonrpc":"2.0","id":4,"method":"$/ping"}]"#))
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}"#))
        await connection.finishInput(timeout: .seconds(20))
        let replies = try messages(sink)
        #expect(replies.count == 1)
        #expect(replies.first?.arrayValue?.map { $0["error"]?["code"] ?? $0["result"] } == [-32800, -32800, .int(Int64(Self.busy)), json("{}")])
    }

    @Test func answersHeldInAnUnfinishedBatchCountAsWorkInFlight() async throws {
        let (connection, sink) = makeConnection(maxInFlight: 4)
        let quick = (1...5).map { #"{"jsonrpc":"2.0","id":"q\#($0)","method":"sum","params":[\#($0)]}"# }
        connection.receive(lspFrame("[" + ([#"{"jsonrpc":"2.0","id":"a","method":"slow"}"#] + quick).joined(separator: ",") + "]"))
        #expect(sink.written.isEmpty, "the batch waits for its slow entry")
        // One task and five ready answers held: over the cap of 4.
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":"late","method":"sum","params":[1]}"#))
        #expect(try messages(sink).map { $0["error"]?["code"] } == [.int(Int64(Self.busy))])
        // Finishing the batch releases its answers.
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"a"}}"#))
        #expect(try messages(sink).count == 2)
        #expect(try await admittedAgain(connection, sink, id: 7))
        await connection.finishInput(timeout: .seconds(20))
    }

    @Test func notificationsThatNeedWorkAreDroppedAtTheCap() async throws {
        let log = Counter()
        let (connection, sink) = makeConnection(methods: testMethods(log: log), maxInFlight: 1)
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"slow"}"#))
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","method":"update","params":[1]}"#))
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        await connection.finishInput(timeout: .seconds(20))
        #expect(try codes(sink) == [-32800])
        #expect(!log.items.contains { $0.hasPrefix("update") }, "the notification was dropped, not queued")
    }

    @Test func theDefaultIsInTheLowThousands() {
        let configuration = ConnectionConfiguration(serverName: "s", serverVersion: "1")
        #expect(configuration.maxInFlight == ConnectionConfiguration.defaultMaxInFlight)
        #expect((1000...4096).contains(ConnectionConfiguration.defaultMaxInFlight))
        #expect(ConnectionConfiguration(serverName: "s", serverVersion: "1", maxInFlight: 0).maxInFlight == 1)
    }
}
