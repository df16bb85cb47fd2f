import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

/// Requests the server sends to the client through `RequestContext.request`, and the routing
/// of the client's responses, over NDJSON like MCP.
@Suite struct OutgoingRequestTests {
    /// `ask` sends `client/confirm` and answers with what came back: the result, or a word for
    /// why there is none.
    private static func askingMethods(log: Counter = Counter()) -> MethodTable {
        var table = MethodTable()
        table.register("ask") { params, context in
            do {
                let timeout = params?["timeoutMs"]?.intValue.map { Duration.milliseconds($0) }
                let answer = try await context.request("client/confirm", params: params ?? [:], timeout: timeout)
                return .json(["answer": answer])
            } catch let error as OutgoingRequestError {
                switch error {
                case .rejected(let rpcError): return .json(["rejected": .int(Int64(rpcError.code))])
                case .inputClosed: return .json(["failed": "inputClosed"])
                case .tooManyPending: return .json(["failed": "tooManyPending"])
                case .timedOut: return .json(["failed": "timedOut"])
                case .unencodable, .noConnection: return .json(["failed": .string("\(error)")])
                }
            } catch is CancellationError {
                log.record("ask saw CancellationError")
                return .json("too late")
            }
        }
        return table
    }

    private static func connection(
        log: Counter = Counter(), maxPending: Int = ConnectionConfiguration.defaultMaxPendingRequestsToClient,
        session: TestSession = TestSession()
    ) -> MemoryConnection {
        MemoryConnection(
            configuration: ConnectionConfiguration(framing: .ndjson, maxPendingRequestsToClient: maxPending),
            session: session, methods: askingMethods(log: log), logger: quietLogger)
    }

    /// Reads the next message, which must be a request of the server's.
    private static func serverRequest(_ peer: MemoryConnection) async throws -> (id: String, message: JSON) {
        let message = try await peer.nextMessage()
        let id = try #require(message["id"]?.stringValue, "expected a server request, got \(message)")
        #expect(message["method"] == "client/confirm")
        return (id, message)
    }

    @Test func theRequestGoesOutAndItsResponseReachesTheHandler() async throws {
        let peer = Self.connection()
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask","params":{"q":"sure?"}}"#)
        let (id, request) = try await Self.serverRequest(peer)
        #expect(id.hasPrefix("hyperstack-rpc/"))
        #expect(request["jsonrpc"] == "2.0")
        #expect(request["params"] == json(#"{"q":"sure?"}"#))
        peer.send(line: #"{"jsonrpc":"2.0","id":"\#(id)","result":{"ok":true}}"#)
        let response = try await peer.response(to: 1)
        #expect(response["result"] == json(#"{"answer":{"ok":true}}"#))
        let rest = try await peer.finish()
        #expect(rest.count == 2, "nothing answers the client's response: \(rest)")
    }

    @Test func anErrorResponseFailsTheWaitWithTheClientsError() async throws {
        let peer = Self.connection()
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask"}"#)
        let (id, _) = try await Self.serverRequest(peer)
        peer.send(line: #"{"jsonrpc":"2.0","id":"\#(id)","error":{"code":-32601,"message":"no elicitation here"}}"#)
        #expect(try await peer.response(to: 1)["result"] == json(#"{"rejected":-32601}"#))
    }

    @Test func aMalformedResponseWithOurIDFailsTheWaitInsteadOfLeavingItHanging() async throws {
        let peer = Self.connection()
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask"}"#)
        let (id, _) = try await Self.serverRequest(peer)
        peer.send(line: #"{"jsonrpc":"2.0","id":"\#(id)","error":"nope"}"#)
        #expect(try await peer.response(to: 1)["result"] == json(#"{"rejected":-32600}"#))
    }

    @Test func responsesInABatchReachTheirHandlersAndTheBatchGetsNoReply() async throws {
        let peer = Self.connection()
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask","params":{"n":1}}"#)
        let first = try await Self.serverRequest(peer)
        peer.send(line: #"{"jsonrpc":"2.0","id":2,"method":"ask","params":{"n":2}}"#)
        let second = try await Self.serverRequest(peer)
        #expect(first.id != second.id)
        peer.send(
            line: #"[{"jsonrpc":"2.0","id":"\#(second.id)","result":"two"},{"jsonrpc":"2.0","id":"\#(first.id)","result":"one"}]"#
        )
        #expect(try await peer.response(to: 1)["result"] == json(#"{"answer":"one"}"#))
        #expect(try await peer.response(to: 2)["result"] == json(#"{"answer":"two"}"#))
        let all = try await peer.finish()
        #expect(all.count == 4, "no empty array or error answers a batch of responses: \(all)")
    }

    @Test func aResponseNobodyWaitsForIsDroppedSilently() async throws {
        let peer = Self.connection()
        peer.send(line: #"{"jsonrpc":"2.0","id":"hyperstack-rpc/999","result":1}"#)
        peer.send(line: #"{"jsonrpc":"2.0","id":7,"result":1}"#)
        peer.send(line: #"{"jsonrpc":"2.0","result":1}"#)
        #expect(try await peer.staysSilent(for: .milliseconds(100)))
        // The connection still works, and a real response still finds its waiter.
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask"}"#)
        let (id, _) = try await Self.serverRequest(peer)
        peer.send(line: #"{"jsonrpc":"2.0","id":"\#(id)","result":"yes"}"#)
        #expect(try await peer.response(to: 1)["result"] == json(#"{"answer":"yes"}"#))
    }

    @Test func closingTheInputFailsEveryPendingRequest() async throws {
        let peer = Self.connection()
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask"}"#)
        peer.send(line: #"{"jsonrpc":"2.0","id":2,"method":"ask"}"#)
        _ = try await Self.serverRequest(peer)
        _ = try await Self.serverRequest(peer)
        let messages = try await peer.finish(timeout: .seconds(20))
        let answers = messages.filter { $0["method"] == nil }
        #expect(answers.count == 2)
        for answer in answers { #expect(answer["result"] == json(#"{"failed":"inputClosed"}"#)) }
    }

    @Test func cancellingTheCallEndsTheWaitAndTellsTheClient() async throws {
        let log = Counter()
        let peer = Self.connection(
            log: log,
            session: TestSession(
                answersCancellation: false,
                cancelNotification: CancelNotification(method: "notifications/cancelled", idMember: "requestId")))
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask"}"#)
        let (id, _) = try await Self.serverRequest(peer)
        peer.send(line: #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#)
        let told = try await peer.notification("notifications/cancelled")
        #expect(told["params"]?["requestId"] == .string(id))
        // The answer that comes too late finds nobody and is dropped.
        peer.send(line: #"{"jsonrpc":"2.0","id":"\#(id)","result":"yes"}"#)
        let rest = try await peer.finish()
        #expect(rest.allSatisfy { $0["id"] != 1 }, "a cancelled MCP-style request gets no answer: \(rest)")
        #expect(log.items == ["ask saw CancellationError"])
    }

    @Test func aRequestWithATimeoutEndsWhenItPassesAndTellsTheClient() async throws {
        let peer = Self.connection()
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask","params":{"timeoutMs":100}}"#)
        let (id, _) = try await Self.serverRequest(peer)
        #expect(try await peer.response(to: 1)["result"] == json(#"{"failed":"timedOut"}"#))
        let told = try #require(peer.received.first { $0["method"] == "$/cancelRequest" })
        #expect(told["params"]?["id"] == .string(id))
        // An answer after the timeout finds nobody.
        peer.send(line: #"{"jsonrpc":"2.0","id":"\#(id)","result":"late"}"#)
        #expect(try await peer.staysSilent(for: .milliseconds(100)))
    }

    @Test func requestsBeyondTheLimitFailAtOnce() async throws {
        let peer = Self.connection(maxPending: 1)
        peer.send(line: #"{"jsonrpc":"2.0","id":1,"method":"ask"}"#)
        let (id, _) = try await Self.serverRequest(peer)
        peer.send(line: #"{"jsonrpc":"2.0","id":2,"method":"ask"}"#)
        #expect(try await peer.response(to: 2)["result"] == json(#"{"failed":"tooManyPending"}"#))
        peer.send(line: #"{"jsonrpc":"2.0","id":"\#(id)","result":"yes"}"#)
        #expect(try await peer.response(to: 1)["result"] == json(#"{"answer":"yes"}"#))
        // The slot is free again.
        peer.send(line: #"{"jsonrpc":"2.0","id":3,"method":"ask"}"#)
        let next = try await Self.serverRequest(peer)
        #expect(next.id != id, "ids are never reused")
    }

    @Test func aDetachedContextFailsRequestsUnlessGivenAnAnswerer() async throws {
        let bare = RequestContext(id: .number(1), method: "m")
        await #expect(throws: OutgoingRequestError.noConnection) { _ = try await bare.request("x", params: [:]) }
        let answered = RequestContext(id: .number(1), method: "m", request: { method, _ in .string(method) })
        #expect(try await answered.request("x", params: [:]) == "x")
    }
}
