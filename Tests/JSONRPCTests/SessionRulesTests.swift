import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

/// What the connection takes from its session: the cancel notification's name and member,
/// and whether a cancelled request is answered at all (MCP answers nothing).
@Suite struct SessionRulesTests {
    private static let mcpStyle = TestSession(
        answersCancellation: false,
        cancelNotification: CancelNotification(method: "notifications/cancelled", idMember: "requestId"))

    @Test func theSessionNamesItsCancelNotification() async throws {
        let started = Latch()
        let log = Counter()
        let peer = makeConnection(methods: testMethods(started: started, log: log), session: Self.mcpStyle)
        peer.send(lsp: #"{"jsonrpc":"2.0","id":1,"method":"slow"}"#)
        await started.wait()
        // The LSP spelling means nothing to this session.
        peer.send(lsp: #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#)
        peer.send(lsp: #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#)
        peer.send(lsp: #"{"jsonrpc":"2.0","id":2,"method":"sum","params":[2]}"#)
        #expect(try await peer.finish() == [json(#"{"jsonrpc":"2.0","id":2,"result":2}"#)], "no answer for the cancelled request")
        #expect(log.items == ["slow saw cancellation: true"])
    }

    @Test func aBatchCompletesWithoutAnEntryThatGetsNoAnswer() async throws {
        let started = Latch()
        let peer = makeConnection(methods: testMethods(started: started), session: Self.mcpStyle)
        peer.send(lsp: #"[{"jsonrpc":"2.0","id":1,"method":"slow"},{"jsonrpc":"2.0","id":2,"method":"sum","params":[3]}]"#)
        await started.wait()
        peer.send(lsp: #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#)
        #expect(try await peer.finish() == [json(#"[{"jsonrpc":"2.0","id":2,"result":3}]"#)])
    }

    @Test func aBatchWhoseEveryEntryGetsNoAnswerWritesNothing() async throws {
        let started = Latch()
        let peer = makeConnection(methods: testMethods(started: started), session: Self.mcpStyle)
        peer.send(lsp: #"[{"jsonrpc":"2.0","id":1,"method":"slow"}]"#)
        await started.wait()
        peer.send(lsp: #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#)
        #expect(try await peer.finish().isEmpty)
    }

    @Test func builtInsNeedNoTask() async throws {
        let peer = makeConnection()
        peer.send(lsp: #"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#)
        #expect(peer.framesWritten == 1, "answered before receive returned")
        // A built-in is a request only: as a notification nothing handles it.
        peer.send(lsp: #"{"jsonrpc":"2.0","method":"$/ping"}"#)
        #expect(try await peer.finish() == [json(#"{"jsonrpc":"2.0","id":1,"result":{}}"#)])
    }
}
