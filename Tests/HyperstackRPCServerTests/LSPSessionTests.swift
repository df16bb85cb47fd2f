import HyperstackProtocol
import HyperstackRPCServer
import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Locking
import Logging
import Synchronization
import Testing

/// The LSP session over a real connection: `initialize`, `shutdown`, `exit`, `$/ping`.
@Suite struct LSPSessionTests {
    @Test func initializeReturnsServerInfoAndCapabilities() async throws {
        let seen = Lock<InitializeOptions?>(nil)
        let session = LSPSession(
            name: "test-server", version: "1.2.3", capabilities: ["apiKeys": true],
            onInitialize: { options in seen.withLock { $0 = options } })
        let params = #"{"processId":42,"clientInfo":{"name":"vim","version":"9"},"initializationOptions":{"region":"x"},"capabilities":{}}"#
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":\#(params)}"#], session: session)
        #expect(replies == [json(#"{"jsonrpc":"2.0","id":0,"result":{"serverInfo":{"name":"test-server","version":"1.2.3"},"capabilities":{"apiKeys":true}}}"#)])
        #expect(seen.withLock { $0 } == InitializeOptions(processID: 42))
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
        // Types are checked before values: a bad type later wins over a bad value earlier.
        (#"{"processId":-1,"clientInfo":"vim"}"#, "clientInfo"),
        (#"{"processId":-1}"#, "processId"),
    ])
    func initializeParamsAreTypeChecked(params: String, field: String) async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":\#(params)}"#])
        #expect(replies.first?["error"]?["code"] == -32602)
        #expect(replies.first?["error"]?["data"]?["field"] == .string(field))
    }

    @Test func initializeParamsMessagesAreTheFirstCheckersOnes() throws {
        #expect(throws: RPCError.invalidParams(field: "params", reason: "must be an object")) {
            try InitializeOptions(params: [1])
        }
        #expect(throws: RPCError.invalidParams(field: "processId", reason: "must be an integer or null, not a string")) {
            try InitializeOptions(params: ["processId": "me"])
        }
        #expect(throws: RPCError.invalidParams(field: "initializationOptions", reason: "must be an object, not an array")) {
            try InitializeOptions(params: ["initializationOptions": [1]])
        }
        #expect(throws: RPCError.invalidParams(field: "processId", reason: "must be a positive integer process id or null")) {
            try InitializeOptions(params: ["processId": 0])
        }
    }

    @Test func initializeHookMayRefuse() async throws {
        let session = LSPSession(onInitialize: { _ in
            throw RPCError.invalidParams(field: "initializationOptions.apiKey", reason: "must not be empty")
        })
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#], session: session)
        #expect(replies.first?["error"]?["data"]?["field"] == "initializationOptions.apiKey")
    }

    @Test func requestsWaitForInitialize() async throws {
        let release = Latch()
        let peer = makeConnection(session: LSPSession(onInitialize: { _ in await release.wait() }))
        peer.send(
            lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
                + lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"sum","params":[1,1]}"#))
        #expect(try await peer.staysSilent(for: .milliseconds(50)), "the request waits while initialize runs")
        release.open()
        #expect(try await peer.finish().map { $0["id"] } == [1, 2])
    }

    @Test func pingDoesNotWaitForInitialize() async throws {
        let release = Latch()
        let peer = makeConnection(session: LSPSession(onInitialize: { _ in await release.wait() }))
        peer.send(
            lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
                + lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"$/ping"}"#))
        #expect(try await peer.nextMessage() == json(#"{"jsonrpc":"2.0","id":2,"result":{}}"#))
        release.open()
        #expect(try await peer.response(to: 1)["result"]?["serverInfo"]?["name"] == "hyperstack-rpc")
        await peer.finishInput()
    }

    @Test func shutdownThenEverythingIsRefusedAndExitReportsZero() async throws {
        let exitCode = Lock<Int32?>(nil)
        let shutdowns = Lock<[String]>([])
        let session = LSPSession(
            onShutdown: { shutdowns.withLock { $0.append("shutdown") } },
            onExit: { code in exitCode.withLock { $0 = code } })
        let replies = try await exchange(
            [
                #"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"sum","params":[1]}"#,
                #"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#,
                #"{"jsonrpc":"2.0","method":"exit"}"#,
            ], session: session)
        #expect(replies.count == 3)
        #expect(replies.first { $0["id"] == 1 } == json(#"{"jsonrpc":"2.0","id":1,"result":null}"#))
        for id in [2, 3] as [JSON] {
            let reply = try #require(replies.first { $0["id"] == id })
            #expect(reply["error"]?["code"] == -32600)
            #expect(reply["error"]?["message"]?.stringValue?.contains("shutting down") == true)
        }
        #expect(exitCode.withLock { $0 } == 0)
        #expect(shutdowns.withLock { $0 } == ["shutdown"])
    }

    @Test func exitWithoutShutdownReportsOne() async throws {
        let exitCode = Lock<Int32?>(nil)
        let session = LSPSession(onExit: { code in exitCode.withLock { $0 = code } })
        let replies = try await exchange([#"{"jsonrpc":"2.0","method":"exit"}"#], session: session)
        #expect(replies.isEmpty)
        #expect(exitCode.withLock { $0 } == 1)
    }

    @Test func shutdownWaitsForEarlierRequests() async throws {
        let gate = Latch()
        let started = Latch()
        let peer = makeConnection(methods: lifecycleMethods(gate: gate, started: started))
        peer.send(lsp: #"{"jsonrpc":"2.0","id":1,"method":"gated"}"#)
        await started.wait()
        peer.send(lsp: #"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#)
        #expect(try await peer.staysSilent(for: .milliseconds(50)), "shutdown is answered only after the work before it")
        gate.open()
        #expect(try await peer.finish().map { $0["id"] } == [1, 2])
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

    @Test func cancellationIsAnsweredWith32800() {
        let session = LSPSession()
        #expect(session.cancelNotification == CancelNotification(method: "$/cancelRequest", idMember: "id"))
        #expect(session.cancelledAnswer(.client) == .requestCancelled)
        #expect(session.cancelledAnswer(.inputClosed(committed: false))?.message == "Request cancelled: the input closed before it finished")
        #expect(session.cancelledAnswer(.inputClosed(committed: true))?.message.contains("may still take effect upstream") == true)
    }
}

/// The lifecycle alone: no connection, no tasks.
@Suite struct LSPLifecycleTests {
    @Test func initializeMustComeFirstAndOnce() {
        var lifecycle = LSPLifecycle()
        #expect(lifecycle.admit(request: "initialize") == .initialize)
        #expect(lifecycle.admit(notification: "initialized") == .proceed)
        #expect(lifecycle.admit(request: "apiKeys.list") == .proceed)
        #expect(lifecycle.admit(request: "initialize") == .refuse(.invalidRequest("'initialize' was already received; send it only once")))
    }

    @Test func initializeAfterAnotherRequestIsRefused() {
        var lifecycle = LSPLifecycle()
        #expect(lifecycle.admit(request: "$/ping") == .proceed)
        guard case .refuse(let error) = lifecycle.admit(request: "initialize") else {
            Issue.record("initialize was admitted after another request")
            return
        }
        #expect(error.code == RPCError.Code.invalidRequest)
        #expect(error.message.contains("first request"))
    }

    @Test func shutdownRefusesEveryLaterRequestAndExitGivesZero() {
        var lifecycle = LSPLifecycle()
        #expect(lifecycle.admit(notification: "exit") == .exit(code: 1))
        #expect(lifecycle.admit(request: "shutdown") == .shutdown)
        for method in ["shutdown", "initialize", "apiKeys.list", "$/ping"] {
            guard case .refuse(let error) = lifecycle.admit(request: method) else {
                Issue.record("\(method) was admitted after shutdown")
                continue
            }
            #expect(error.message.contains("shutting down"))
        }
        #expect(lifecycle.admit(notification: "apiKeys.didChange") == .proceed)
        #expect(lifecycle.admit(notification: "exit") == .exit(code: 0))
    }
}

// MARK: - Helpers

private let quietLogger = Logger(label: "LSPSessionTests", factory: { _ in SwiftLogNoOpLogHandler() })

/// `sum` and `gated`, enough to have ordinary work around the lifecycle methods.
private func lifecycleMethods(gate: Latch = Latch(), started: Latch = Latch()) -> MethodTable {
    var table = MethodTable()
    table.register("sum") { params, _ in
        .json(.int((params?.arrayValue ?? []).compactMap(\.intValue).reduce(0, +)))
    }
    table.register("gated") { _, _ in
        started.open()
        await gate.wait()
        return .json("released")
    }
    return table
}

private func makeConnection(methods: MethodTable = lifecycleMethods(), session: LSPSession = LSPSession()) -> MemoryConnection {
    MemoryConnection(configuration: ConnectionConfiguration(), session: session, methods: methods, logger: quietLogger)
}

private func exchange(_ bodies: [String], session: LSPSession = LSPSession()) async throws -> [JSON] {
    let peer = makeConnection(session: session)
    for body in bodies { peer.send(lsp: body) }
    return try await peer.finish()
}

private func json(_ text: String) -> JSON {
    do { return try JSON.parse(text) } catch {
        Issue.record("bad test JSON \(text): \(error)")
        return .null
    }
}
