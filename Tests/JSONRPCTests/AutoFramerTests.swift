import JSONRPC
import JSONRPCTestSupport
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

    // Issue 10, item 12: a UTF-8 byte order mark before the first message.

    @Test func byteOrderMarkBeforeNDJSONIsSkipped() {
        var framer = AutoFramer()
        let stream: [UInt8] = [0xEF, 0xBB, 0xBF] + bytes("\(body)\n")
        stream.withUnsafeBytes { #expect(framer.decide(from: $0) == .ndjson) }
        #expect(framer.feed(stream) == [.message(bytes(body))])
        #expect(framer.framing == .ndjson)
    }

    @Test func byteOrderMarkSplitAcrossChunksIsSkipped() {
        let stream: [UInt8] = [0xEF, 0xBB, 0xBF] + bytes("\(body)\n\(body)\n")
        for split in 1...4 {
            var framer = AutoFramer()
            let head = Array(stream[..<split])
            head.withUnsafeBytes { #expect(framer.decide(from: $0) == (split == 4 ? .ndjson : nil)) }
            var events = framer.feed(head)
            let tail = Array(stream[split...])
            tail.withUnsafeBytes { #expect(framer.decide(from: $0) == .ndjson) }
            events += framer.feed(tail)
            #expect(events == [.message(bytes(body)), .message(bytes(body))], "split at \(split)")
        }
    }

    @Test func byteOrderMarkBeforeLSPAndInFixedFramingsIsSkipped() {
        var auto = AutoFramer()
        #expect(auto.feed([0xEF, 0xBB, 0xBF] + lspFrame(body)) == [.message(bytes(body))])
        #expect(auto.framing == .lsp)
        var lsp = AutoFramer(framing: .lsp)
        #expect(lsp.feed([0xEF, 0xBB, 0xBF] + lspFrame(body)) == [.message(bytes(body))])
        var ndjson = AutoFramer(framing: .ndjson)
        #expect(ndjson.feed([0xEF, 0xBB, 0xBF] + bytes("\(body)\n")) == [.message(bytes(body))])
    }

    @Test func onlyALeadingByteOrderMarkIsSkipped() {
        var framer = AutoFramer(framing: .ndjson)
        let later: [UInt8] = bytes("\(body)\n") + [0xEF, 0xBB, 0xBF] + bytes("\(body)\n")
        #expect(framer.feed(later) == [.message(bytes(body)), .message([0xEF, 0xBB, 0xBF] + bytes(body))])
    }

    @Test func aPartialByteOrderMarkIsData() {
        var framer = AutoFramer(framing: .ndjson)
        var events = framer.feed([0xEF, 0xBB])
        #expect(events.isEmpty)
        events += framer.feed(bytes("\(body)\n"))
        #expect(events == [.message([0xEF, 0xBB] + bytes(body))])
        var auto = AutoFramer()
        let stream: [UInt8] = [0xEF] + bytes("x\r\n\r\n")
        stream.withUnsafeBytes { #expect(auto.decide(from: $0) == .lsp) }
    }
}
