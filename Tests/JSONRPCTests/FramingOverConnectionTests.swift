import JSONRPC
import JanssonJSON
import Testing

@Suite struct FramingOverConnectionTests {
    let request = #"{"jsonrpc":"2.0","id":1,"method":"subtract","params":[42,23]}"#
    let expected = #"{"jsonrpc":"2.0","id":1,"result":19}"#

    @Test func lspInLSPOut() async throws {
        let (connection, sink) = makeConnection()
        connection.receive(lspFrame(request))
        await connection.finishInput(timeout: .seconds(20))
        #expect(connection.framing == .lsp)
        #expect(sink.written == [lspFrame(expected)])
    }

    @Test func ndjsonInNDJSONOut() async throws {
        let (connection, sink) = makeConnection()
        connection.receive(bytes("\r\n  " + request + "\r\n"))
        await connection.finishInput(timeout: .seconds(20))
        #expect(connection.framing == .ndjson)
        #expect(sink.written == [bytes(expected + "\n")])
    }

    @Test func ndjsonBatch() async throws {
        let (connection, sink) = makeConnection()
        connection.receive(bytes("[" + request + "]\n"))
        await connection.finishInput(timeout: .seconds(20))
        #expect(sink.written == [bytes("[" + expected + "]\n")])
    }

    @Test(arguments: [Framing.lsp, .ndjson])
    func oneBytePerChunk(framing: Framing) async throws {
        let (connection, sink) = makeConnection()
        let text = #"{"jsonrpc":"2.0","id":"ü","method":"echo","params":{"s":"日本語 😀"}}"#
        let stream = framing == .lsp ? lspFrame(text) + lspFrame(request) : bytes(text + "\n" + request + "\n")
        for byte in stream { connection.receive([byte]) }
        await connection.finishInput(timeout: .seconds(20))
        let replies = try messages(sink, framing: framing)
        #expect(replies.count == 2)
        #expect(replies.contains(json(#"{"jsonrpc":"2.0","id":"ü","result":{"s":"日本語 😀"}}"#)))
        #expect(replies.contains(json(expected)))
    }

    @Test func fixedFramingIgnoresTheFirstByte() async throws {
        let (connection, sink) = makeConnection(framing: .lsp)
        #expect(connection.framing == .lsp)
        connection.receive(lspFrame(request))
        await connection.finishInput(timeout: .seconds(20))
        #expect(sink.written == [lspFrame(expected)])
    }

    @Test func notifyBeforeAnyInputUsesLSPHeaders() {
        let (connection, sink) = makeConnection()
        #expect(connection.framing == nil)
        connection.notify("hello", params: [:])
        #expect(sink.written == [lspFrame(#"{"jsonrpc":"2.0","method":"hello","params":{}}"#)])
    }
}
