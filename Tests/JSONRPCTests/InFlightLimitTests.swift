import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

/// Issue 10, item 3: the work in flight is capped, and at the cap new requests are
/// answered at once with -32802 while cancellations and task-free answers still flow.
@Suite struct InFlightLimitTests {
    private static let busy = RPCError.Code.serverCancelled

    private func codes(_ peer: MemoryConnection) async throws -> [JSON?] {
        try await peer.messages().map { $0["error"]?["code"] }
    }

    /// Sends `sum` until one is admitted again (a finishing task frees its place a moment
    /// after its cancellation was answered, once its handler has returned); false if that
    /// never happens.
    private func admittedAgain(_ peer: MemoryConnection, id: Int) async throws -> Bool {
        for attempt in 0..<10_000 {
            _ = try await peer.messages()
            peer.send(lsp: #"{"jsonrpc":"2.0","id":"\#(id)-\#(attempt)","method":"sum","params":[1]}"#)
            let last = try await peer.nextMessage()
            if last["result"] == 1 { return true }
            #expect(last["error"]?["code"] == .int(Int64(Self.busy)))
            await Task.yield()
        }
        return false
    }

    @Test func atTheCapANewRequestIsAnsweredAtOnceWith32802() async throws {
        let peer = makeConnection(maxInFlight: 2)
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"slow"}"#))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"slow"}"#))
        #expect(peer.framesWritten == 0)
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":3,"method":"slow"}"#))
        // Answered before `receive` returned: no task was started for it.
        let refusal = try await peer.messages()
        #expect(refusal.count == 1)
        #expect(refusal.first?["id"] == 3)
        #expect(refusal.first?["error"]?["code"] == .int(Int64(Self.busy)))
        let message = refusal.first?["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("2 requests") && message.contains("retry"))

        // $/ping and unknown methods need no task, so they are never refused.
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":4,"method":"$/ping"}"#))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":5,"method":"nope"}"#))
        #expect(try await peer.messages().dropFirst().map { $0["result"] ?? $0["error"]?["code"] } == [json("{}"), -32601])

        // A cancellation still gets through, and frees a place once the task has ended.
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        #expect(try await peer.messages().last == json(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32800,"message":"Request cancelled"}}"#))
        #expect(try await admittedAgain(peer, id: 6))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}"#))
        await peer.finishInput(timeout: .seconds(20))
    }

    @Test func eachEntryOfABatchIsAdmittedOrRefused() async throws {
        let peer = makeConnection(maxInFlight: 2)
        peer.send(lspFrame(
            #"[{"jsonrpc":"2.0","id":1,"method":"slow"},{"jsonrpc":"2.0","id":2,"method":"slow"},"#
                + #"{"jsonrpc":"2.0","id":3,"method":"slow"},{"jsonrpc":"2.0","id":4,"method":"$/ping"}]"#))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}"#))
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies.count == 1)
        #expect(replies.first?.arrayValue?.map { $0["error"]?["code"] ?? $0["result"] } == [-32800, -32800, .int(Int64(Self.busy)), json("{}")])
    }

    @Test func answersHeldInAnUnfinishedBatchCountAsWorkInFlight() async throws {
        let peer = makeConnection(maxInFlight: 4)
        let quick = (1...5).map { #"{"jsonrpc":"2.0","id":"q\#($0)","method":"sum","params":[\#($0)]}"# }
        peer.send(lspFrame("[" + ([#"{"jsonrpc":"2.0","id":"a","method":"slow"}"#] + quick).joined(separator: ",") + "]"))
        #expect(peer.framesWritten == 0, "the batch waits for its slow entry")
        // One task and five ready answers held: over the cap of 4.
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":"late","method":"sum","params":[1]}"#))
        #expect(try await peer.messages().map { $0["error"]?["code"] } == [.int(Int64(Self.busy))])
        // Finishing the batch releases its answers.
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"a"}}"#))
        #expect(try await peer.messages().count == 2)
        #expect(try await admittedAgain(peer, id: 7))
        await peer.finishInput(timeout: .seconds(20))
    }

    @Test func notificationsThatNeedWorkAreDroppedAtTheCap() async throws {
        let log = Counter()
        let peer = makeConnection(methods: testMethods(log: log), maxInFlight: 1)
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"slow"}"#))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"update","params":[1]}"#))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await codes(peer) == [-32800])
        #expect(!log.items.contains { $0.hasPrefix("update") }, "the notification was dropped, not queued")
    }

    @Test func theDefaultIsInTheLowThousands() {
        let configuration = ConnectionConfiguration()
        #expect(configuration.maxInFlight == ConnectionConfiguration.defaultMaxInFlight)
        #expect((1000...4096).contains(ConnectionConfiguration.defaultMaxInFlight))
        #expect(ConnectionConfiguration(maxInFlight: 0).maxInFlight == 1)
    }
}
