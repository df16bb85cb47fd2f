import JSONRPC
import JanssonJSON
import Synchronization
import Testing

@Suite struct LifecycleTests {
    @Test func initializeReturnsServerInfoAndCapabilities() async throws {
        let seen = Mutex<JSON?>(nil)
        let hooks = ConnectionHooks(onInitialize: { params in seen.withLock { $0 = params } })
        let params = #"{"processId":42,"clientInfo":{"name":"vim","version":"9"},"initializationOptions":{"region":"x"},"capabilities":{}}"#
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":\#(params)}"#], hooks: hooks)
        #expect(replies == [json(#"{"jsonrpc":"2.0","id":0,"result":{"serverInfo":{"name":"test-server","version":"1.2.3"},"capabilities":{"apiKeys":true}}}"#)])
        #expect(seen.withLock { $0 } == json(params))
    }

    @Test func initializeIsOptional() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":1,"method":"sum","params":[1]}"#])
        #expect(replies.first?["result"] == 1)
    }

    @Test func initializeAfterAnotherRequestIsRefused() async throws {
        let replies = try await exchange([
            #"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}"#,
        ])
        #expect(replies.count == 2)
        #expect(replies[1]["id"] == 2)
        #expect(replies[1]["error"]?["code"] == -32600)
    }

    @Test func secondInitializeIsRefused() async throws {
        let replies = try await exchange([
            #"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#,
            #"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}"#,
        ])
        #expect(replies.count == 2)
        let second = try #require(replies.first { $0["id"] == 2 })
        #expect(second["error"]?["code"] == -32600)
        #expect(second["error"]?["message"]?.stringValue?.contains("already") == true)
    }

    @Test(arguments: [
        (#"{"processId":"123"}"#, "processId"),
        (#"{"clientInfo":"vim"}"#, "clientInfo"),
        (#"{"clientInfo":{"version":"1"}}"#, "clientInfo.name"),
        (#"{"clientInfo":{"name":"vim","version":2}}"#, "clientInfo.version"),
        (#"{"initializationOptions":[1]}"#, "initializationOptions"),
        (#"[1]"#, "params"),
    ])
    func initializeParamsAreTypeChecked(params: String, field: String) async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":\#(params)}"#])
        #expect(replies.first?["error"]?["code"] == -32602)
        #expect(replies.first?["error"]?["data"]?["field"] == .string(field))
    }

    @Test func initializeHookMayRefuse() async throws {
        let hooks = ConnectionHooks(onInitialize: { _ in
            throw RPCError.invalidParams(field: "initializationOptions.apiKey", reason: "must not be empty")
        })
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#], hooks: hooks)
        #expect(replies.first?["error"]?["data"]?["field"] == "initializationOptions.apiKey")
    }

    @Test func requestsWaitForInitialize() async throws {
        let release = Latch()
        let hooks = ConnectionHooks(onInitialize: { _ in await release.wait() })
        let (connection, sink) = makeConnection(hooks: hooks)
        connection.receive(
            lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
                + lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"sum","params":[1,1]}"#))
        try await Task.sleep(for: .milliseconds(50))
        #expect(sink.written.isEmpty, "the request waits while initialize runs")
        release.open()
        await connection.finishInput(timeout: .seconds(20))
        let replies = try messages(sink)
        #expect(replies.map { $0["id"] } == [1, 2])
    }

    @Test func shutdownThenEverythingIsRefusedAndExitReportsZero() async throws {
        let exitCode = Mutex<Int32?>(nil)
        let shutdowns = Counter()
        let hooks = ConnectionHooks(
            onExit: { code in exitCode.withLock { $0 = code } },
            onShutdown: { shutdowns.record("shutdown") })
        let replies = try await exchange(
            [
                #"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"sum","params":[1]}"#,
                #"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#,
                #"{"jsonrpc":"2.0","method":"exit"}"#,
            ], hooks: hooks)
        #expect(replies.count == 3)
        #expect(replies.first { $0["id"] == 1 } == json(#"{"jsonrpc":"2.0","id":1,"result":null}"#))
        for id in [2, 3] as [JSON] {
            let reply = try #require(replies.first { $0["id"] == id })
            #expect(reply["error"]?["code"] == -32600)
            #expect(reply["error"]?["message"]?.stringValue?.contains("shutting down") == true)
        }
        #expect(exitCode.withLock { $0 } == 0)
        #expect(shutdowns.items == ["shutdown"])
    }

    @Test func exitWithoutShutdownReportsOne() async throws {
        let exitCode = Mutex<Int32?>(nil)
        let hooks = ConnectionHooks(onExit: { code in exitCode.withLock { $0 = code } })
        let replies = try await exchange([#"{"jsonrpc":"2.0","method":"exit"}"#], hooks: hooks)
        #expect(replies.isEmpty)
        #expect(exitCode.withLock { $0 } == 1)
    }

    @Test func shutdownWaitsForEarlierRequests() async throws {
        let gate = Latch()
        let started = Latch()
        let (connection, sink) = makeConnection(methods: testMethods(gate: gate, started: started))
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"gated"}"#))
        await started.wait()
        connection.receive(lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#))
        try await Task.sleep(for: .milliseconds(50))
        #expect(sink.written.isEmpty, "shutdown is answered only after the work before it")
        gate.open()
        await connection.finishInput(timeout: .seconds(20))
        #expect(try messages(sink).map { $0["id"] } == [1, 2])
    }

    @Test func ping() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":"p","method":"$/ping"}"#])
        #expect(replies == [json(#"{"jsonrpc":"2.0","id":"p","result":{}}"#)])
    }

    @Test func dollarMethods() async throws {
        let replies = try await exchange([
            #"{"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"off"}}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"$/unknownThing"}"#,
        ])
        #expect(replies.count == 1)
        #expect(replies[0]["id"] == 1)
        #expect(replies[0]["error"]?["code"] == -32601)
    }
}
