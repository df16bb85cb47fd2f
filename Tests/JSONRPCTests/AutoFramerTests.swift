import JSONRPC
import Testing

@Suite struct AutoFramerTests {
    let body = #"{"jsonrpc":"2.0","id":1,"method":"a"}"#

    @Test func braceMeansNDJSON() {
        var framer = AutoFramer()
        #expect(framer.framing == nil)
        #expect(framer.feed(bytes("\(body)\n")) == [.message(bytes(body))])
        #expect(framer.framing == .ndjson)
    }

    @Test func bracketMeansNDJSON() {
        var framer = AutoFramer()
        #expect(framer.feed(bytes("[\(body)]\n")) == [.message(bytes("[\(body)]"))])
        #expect(framer.framing == .ndjson)
    }

    @Test func headerMeansLSP() {
        var framer = AutoFramer()
        #expect(framer.feed(lspFrame(body)) == [.message(bytes(body))])
        #expect(framer.framing == .lsp)
    }

    @Test func leadingWhitespaceWaitsForTheDecision() {
        var framer = AutoFramer()
        #expect(framer.feed(bytes(" \r\n\t")).isEmpty)
        #expect(framer.framing == nil)
        #expect(framer.feed(bytes("\n \(body)\n")) == [.message(bytes(body))])
        #expect(framer.framing == .ndjson)
    }

    @Test func anythingElseMeansLSPAndGarbageIsReported() {
        var framer = AutoFramer()
        let events = framer.feed(bytes("hello\r\n\r\n") + lspFrame(body))
        #expect(framer.framing == .lsp)
        #expect(events.count == 2)
        #expect(events.last == .message(bytes(body)))
    }

    @Test func fixedFramingDoesNotGuess() {
        var lsp = AutoFramer(framing: .lsp)
        #expect(lsp.framing == .lsp)
        var ndjson = AutoFramer(framing: .ndjson)
        #expect(ndjson.framing == .ndjson)
        #expect(ndjson.feed(bytes("\(body)\n")) == [.message(bytes(body))])
        // An NDJSON line fed to a fixed LSP framer is not a message.
        #expect(lsp.feed(bytes("\(body)\n")).allSatisfy { if case .message = $0 { false } else { true } })
    }

    @Test func decideDoesNotConsume() {
        var framer = AutoFramer()
        let chunk = bytes("  \(body)\n")
        let decided = chunk.withUnsafeBytes { framer.decide(from: $0) }
        #expect(decided == .ndjson)
        #expect(framer.feed(chunk) == [.message(bytes(body))])
    }
}
