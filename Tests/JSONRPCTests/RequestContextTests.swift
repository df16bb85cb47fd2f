import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

@Suite struct RequestContextTests {
    @Test func detachedContextForwardsNotifications() {
        let seen = Counter()
        let context = RequestContext(id: .string("x"), method: "m") { method, params in
            seen.record("\(method) \((try? params.serializedString()) ?? "")")
        }
        context.notify("progress", params: ["n": 1])
        #expect(seen.items == [#"progress {"n":1}"#])
        #expect(context.id == .string("x"))
        #expect(!context.isCancelled)
    }

    @Test func cancelledRequestSeesIsCancelled() async throws {
        let started = Latch()
        let log = Counter()
        let peer = makeConnection(methods: testMethods(started: started, log: log))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"slow"}"#))
        await started.wait()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#))
        await peer.finishInput(timeout: .seconds(20))
        #expect(log.items == ["slow saw cancellation: true"])
    }
}
