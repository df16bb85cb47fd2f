import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

/// Issue 10, item 7: work that cannot be taken back (a generate sent upstream) commits to
/// completion, after which `$/cancelRequest` leaves it alone and its result is the answer.
@Suite struct CommitToCompletionTests {
    private static func methods(gate: Latch, started: Latch, log: Counter) -> MethodTable {
        var table = testMethods(log: log)
        table.register("irrevocable") { _, context in
            guard context.commitToCompletion() else { throw CancellationError() }
            started.open()
            await gate.wait()
            log.record("irrevocable finished, cancelled: \(context.isCancelled), task cancelled: \(Task.isCancelled)")
            return .json("the secret")
        }
        table.register("commitsLate") { _, context in
            started.open()
            await gate.wait()
            guard context.commitToCompletion() else {
                log.record("too late to commit")
                throw CancellationError()
            }
            return .json("never sent")
        }
        return table
    }

    @Test func aCommittedRequestIgnoresCancellationAndAnswersWithItsResult() async throws {
        let (gate, started, log) = (Latch(), Latch(), Counter())
        let peer = makeConnection(methods: Self.methods(gate: gate, started: started, log: log))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"irrevocable"}"#))
        await started.wait()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        #expect(peer.framesWritten == 0, "no -32800 for committed work")
        gate.open()
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await peer.messages() == [json(#"{"jsonrpc":"2.0","id":1,"result":"the secret"}"#)])
        #expect(log.items == ["irrevocable finished, cancelled: false, task cancelled: false"])
    }

    @Test func shutdownWaitsForCommittedWork() async throws {
        let (gate, started, log) = (Latch(), Latch(), Counter())
        let peer = makeConnection(methods: Self.methods(gate: gate, started: started, log: log))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"irrevocable"}"#))
        await started.wait()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#))
        #expect(try await peer.staysSilent(for: .milliseconds(20)))
        gate.open()
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await peer.messages().map { $0["id"] } == [1, 2])
    }

    @Test func aRequestCancelledBeforeItCommitsIsCancelled() async throws {
        let (gate, started, log) = (Latch(), Latch(), Counter())
        let peer = makeConnection(methods: Self.methods(gate: gate, started: started, log: log))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"commitsLate"}"#))
        await started.wait()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        gate.open()
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await peer.messages() == [json(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32800,"message":"Request cancelled"}}"#)])
        #expect(log.items == ["too late to commit"])
    }

    @Test func endOfInputStillAnswersCommittedWorkThatOutlivesTheDrain() async throws {
        let (gate, started, log) = (Latch(), Latch(), Counter())
        let peer = makeConnection(methods: Self.methods(gate: gate, started: started, log: log))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"irrevocable"}"#))
        await started.wait()
        await peer.finishInput(timeout: .milliseconds(50))
        let replies = try await peer.messages()
        #expect(replies.count == 1)
        #expect(replies.first?["error"]?["code"] == -32800)
        #expect(replies.first?["error"]?["message"]?.stringValue?.contains("may still take effect upstream") == true)
        gate.open()
    }

    @Test func aDetachedContextCommitsUnlessTheTaskIsCancelled() async {
        let context = RequestContext(id: .number(1), method: "m")
        #expect(context.commitToCompletion())
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return context.commitToCompletion()
        }
        #expect(await task.value == false)
    }
}
