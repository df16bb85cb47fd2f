import HyperstackSandbox
import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Locking
import Logging
import Synchronization
import Testing

@testable import APIKeyStore
@testable import HyperstackRPCHost

/// Sessions over one server share its key store: each hears every change while it lives, and a
/// stopped one is let go, so the daemon of issue 12 can come and go with clients.
@Suite struct HyperstackSessionTests {
    @Test func everySessionHearsAChangeAnotherCaused() async throws {
        let harness = try ServerHarness()
        let otherClient = ClientEnd(framing: .ndjson)
        let other = harness.server.openSession(framing: .ndjson, sink: otherClient.sink, events: .ignored)
        defer { other.stop() }

        let messages = try await harness.exchange("apiKeys.generate", ["name": "shared"], id: 1)
        let revision = messages.last?["result"]?["revision"]
        let heard = try await otherClient.messages()
        #expect(heard.count == 1)
        #expect(heard.first?["method"] == "apiKeys.didChange")
        #expect(heard.first?["params"]?["revision"] == revision)
        #expect(heard.first?["params"]?["cause"] == "generate")
    }

    @Test func aStoppedSessionHearsNothingAndIsLetGo() async throws {
        let harness = try ServerHarness()
        let store = harness.server.upstream.store
        weak var weakSession: HyperstackSession?
        let stoppedClient = ClientEnd(framing: .ndjson)
        do {
            let session = harness.server.openSession(framing: .ndjson, sink: stoppedClient.sink, events: .ignored)
            weakSession = session
            #expect(store.subscribers.count == 2)
            session.stop()
        }
        #expect(store.subscribers.count == 1)
        #expect(weakSession == nil, "a stopped session must not be kept alive by the store")

        _ = try await harness.exchange("apiKeys.generate", ["name": "after"], id: 1)
        #expect(try await stoppedClient.messages().isEmpty)
    }

    @Test func theSessionReportsTheDetectedFraming() throws {
        let harness = try ServerHarness()
        let client = ClientEnd(framing: .ndjson)
        let session = harness.server.openSession(framing: .auto, sink: client.sink, events: .ignored)
        defer { session.stop() }
        #expect(session.framing == nil)
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#.utf8) + [UInt8(ascii: "\n")]
        line.withUnsafeBytes { session.receive($0) }
        #expect(session.framing == .ndjson)
    }

    @Test func initializeNamesTheClientProcessToTheHost() async throws {
        let harness = try ServerHarness()
        let client = ClientEnd(framing: .ndjson)
        let named = NamedProcess()
        let session = harness.server.openSession(
            framing: .ndjson, sink: client.sink,
            events: SessionEvents(clientProcess: { named.record($0) }, exit: { _ in }))
        defer { session.stop() }
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":4242}}"#.utf8) + [10]
        line.withUnsafeBytes { session.receive($0) }
        let answer = try await client.response(to: 1)
        #expect(answer["result"]?["serverInfo"]?["name"] == "hyperstack-rpc")
        #expect(named.processIDs == [4242])
    }
}

/// The process ids a session named to its host.
private final class NamedProcess: Sendable {
    private let ids = Lock<[Int32]>([])
    func record(_ id: Int32) { ids.withLock { $0.append(id) } }
    var processIDs: [Int32] { ids.withLock { $0 } }
}
