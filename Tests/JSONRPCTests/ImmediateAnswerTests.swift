import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Locking
import Synchronization
import Testing

/// Methods registered with a synchronous fast path (`register(_:immediate:handler:)`).
/// The "cache" a fast path reads: a value, or nothing (a miss).
private final class CacheBox: Sendable {
    private let stored: Lock<Int?>
    init(_ value: Int?) { stored = Lock(value) }
    var value: Int? { stored.withLock { $0 } }
}

@Suite struct ImmediateAnswerTests {
    /// `lookup` answers from a "cache" when it holds a value, else the async handler runs.
    private static func cachingMethods(cache: CacheBox, log: Counter) -> MethodTable {
        var table = testMethods(log: log)
        table.register("lookup") { params in
            if params?["fail"] == .bool(true) {
                throw RPCError.invalidParams(field: "fail", reason: "asked to fail")
            }
            guard let cached = cache.value else { return nil }
            log.record("immediate")
            return .json(["value": .int(Int64(cached)), "cached": true])
        } handler: { _, _ in
            log.record("handler")
            return .json(["value": 0, "cached": false])
        }
        return table
    }

    @Test func aHitIsAnsweredBeforeReceiveReturns() async throws {
        let cache = CacheBox(7)
        let log = Counter()
        let peer = makeConnection(methods: Self.cachingMethods(cache: cache, log: log))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":-12,"method":"lookup"}"#))
        // No task was started: the answer is already written when `receive` returns.
        #expect(try await peer.messages() == [json(#"{"jsonrpc":"2.0","id":-12,"result":{"value":7,"cached":true}}"#)])
        #expect(log.items == ["immediate"])
    }

    @Test func aMissFallsThroughToTheHandler() async throws {
        let cache = CacheBox(nil)
        let log = Counter()
        let replies = try await exchange(
            [#"{"jsonrpc":"2.0","id":"a","method":"lookup"}"#], methods: Self.cachingMethods(cache: cache, log: log))
        #expect(replies == [json(#"{"jsonrpc":"2.0","id":"a","result":{"value":0,"cached":false}}"#)])
        #expect(log.items == ["handler"])
    }

    @Test func aThrowingFastPathAnswersWithItsError() async throws {
        let cache = CacheBox(7)
        let log = Counter()
        let replies = try await exchange(
            [#"{"jsonrpc":"2.0","id":1,"method":"lookup","params":{"fail":true}}"#],
            methods: Self.cachingMethods(cache: cache, log: log))
        #expect(replies.first?["error"]?["code"] == .int(-32602))
        #expect(replies.first?["error"]?["data"]?["field"] == "fail")
        #expect(log.items.isEmpty, "the async handler must not run after the fast path answered")
    }

    @Test func theFastPathWaitsWhileInitializeRuns() async throws {
        let cache = CacheBox(7)
        let log = Counter()
        let release = Latch()
        let session = TestSession(onInitialize: { _ in await release.wait() })
        let peer = makeConnection(methods: Self.cachingMethods(cache: cache, log: log), session: session)
        peer.send(
            lspFrame(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
                + lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"lookup"}"#))
        #expect(try await peer.staysSilent(for: .milliseconds(50)), "a cached answer must not overtake a running initialize")
        release.open()
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies.map { $0["id"] } == [1, 2])
        #expect(replies.last?["result"]?["cached"] == .bool(false), "queued behind initialize, it took the async path")
    }

    @Test func hitsInsideABatchAreCollectedWithTheRest() async throws {
        let cache = CacheBox(3)
        let log = Counter()
        let replies = try await exchange(
            [#"[{"jsonrpc":"2.0","id":1,"method":"lookup"},{"jsonrpc":"2.0","id":2,"method":"sum","params":[1,2]}]"#],
            methods: Self.cachingMethods(cache: cache, log: log))
        #expect(
            replies == [
                json(
                    #"[{"jsonrpc":"2.0","id":1,"result":{"value":3,"cached":true}},{"jsonrpc":"2.0","id":2,"result":3}]"#)
            ])
    }

    @Test(arguments: [Int64.min, -1, 0, 9, 10, 99, 1_000_000_007, Int64.max])
    func integerIDsAreEchoedExactlyInBothFramings(id: Int64) async throws {
        for framing in [Framing.lsp, .ndjson] {
            let peer = makeConnection(framing: framing)
            let body = #"{"jsonrpc":"2.0","id":\#(id),"method":"$/ping"}"#
            peer.send(framing == .lsp ? lspFrame(body) : bytes(body + "\n"))
            let reply = try await peer.bodies()
            #expect(reply == [bytes(#"{"jsonrpc":"2.0","id":\#(id),"result":{}}"#)])
        }
    }
}
