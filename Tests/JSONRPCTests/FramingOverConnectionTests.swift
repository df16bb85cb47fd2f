import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

@Suite struct FramingOverConnectionTests {
    let request = #"{"jsonrpc":"2.0","id":1,"method":"subtract","params":[42,23]}"#
    let expected = #"{"jsonrpc":"2.0","id":1,"result":19}"#

    @Test func lspInLSPOut() async throws {
        let peer = makeConnection()
        peer.send(lspFrame(request))
        await peer.finishInput(timeout: .seconds(20))
        #expect(peer.connection.framing == .lsp)
        #expect(try await peer.frames() == [lspFrame(expected)])
    }

    @Test func ndjsonInNDJSONOut() async throws {
        let peer = makeConnection()
        peer.send(bytes("\r\n  " + request + "\r\n"))
        await peer.finishInput(timeout: .seconds(20))
        #expect(peer.connection.framing == .ndjson)
        #expect(try await peer.frames() == [bytes(expected + "\n")])
    }

    @Test func ndjsonBatch() async throws {
        let peer = makeConnection()
        peer.send(bytes("[" + request + "]\n"))
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await peer.frames() == [bytes("[" + expected + "]\n")])
    }

    @Test(arguments: [Framing.lsp, .ndjson])
    func oneBytePerChunk(framing: Framing) async throws {
        let peer = makeConnection()
        let text = #"{"jsonrpc":"2.0","id":"ü","method":"echo","params":{"s":"日本語 😀"}}"#
        let stream = framing == .lsp ? lspFrame(text) + lspFrame(request) : bytes(text + "\n" + request + "\n")
        for byte in stream { peer.send([byte]) }
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies.count == 2)
        #expect(replies.contains(json(#"{"jsonrpc":"2.0","id":"ü","result":{"s":"日本語 😀"}}"#)))
        #expect(replies.contains(json(expected)))
    }

    @Test func fixedFramingIgnoresTheFirstByte() async throws {
        let peer = makeConnection(framing: .lsp)
        #expect(peer.connection.framing == .lsp)
        peer.send(lspFrame(request))
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await peer.frames() == [lspFrame(expected)])
    }

    @Test func notifyBeforeAnyInputUsesLSPHeaders() async throws {
        let peer = makeConnection()
        #expect(peer.connection.framing == nil)
        peer.connection.notify("hello", params: [:])
        #expect(try await peer.frames() == [lspFrame(#"{"jsonrpc":"2.0","method":"hello","params":{}}"#)])
    }
}
