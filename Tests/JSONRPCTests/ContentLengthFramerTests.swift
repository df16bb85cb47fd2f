import JSONRPC
import JSONRPCTestSupport
import Testing

@Suite struct ContentLengthFramerTests {
    let first = #"{"jsonrpc":"2.0","id":1,"method":"a"}"#
    let second = #"{"jsonrpc":"2.0","id":2,"method":"b","params":{"text":"héllo 😀 ✓"}}"#

    @Test func singleMessage() {
        var framer = ContentLengthFramer()
        #expect(framer.feed(lspFrame(first)) == [.message(bytes(first))])
        #expect(!framer.isInsideMessage)
    }

    @Test func splitMessage() {
        let stream = lspFrame(first) + lspFrame(second)
        // Every possible split point, in the header and in the body.
        for split in 1..<stream.count {
            var framer = ContentLengthFramer()
            let events = framer.feed(stream[..<split]) + framer.feed(stream[split...])
            #expect(events == [.message(bytes(first)), .message(bytes(second))], "split at \(split)")
        }
    }

    @Test func severalMessagesInOneChunk() {
        var framer = ContentLengthFramer()
        let events = framer.feed(lspFrame(first) + lspFrame(second) + lspFrame(first))
        #expect(events == [.message(bytes(first)), .message(bytes(second)), .message(bytes(first))])
    }

    @Test func oneBytePerChunk() {
        var framer = ContentLengthFramer()
        var events: [FramerEvent] = []
        for byte in lspFrame(second) + lspFrame(first) { events += framer.feed([byte]) }
        #expect(events == [.message(bytes(second)), .message(bytes(first))])
    }

    @Test func multiByteUTF8LengthCountsBytes() {
        let body = #"{"s":"日本語 🎉"}"#
        #expect(body.utf8.count != body.count)
        var framer = ContentLengthFramer()
        #expect(framer.feed(lspFrame(body) + lspFrame(first)) == [.message(bytes(body)), .message(bytes(first))])
    }

    @Test func headerNameIsCaseInsensitiveAndOtherHeadersAreIgnored() {
        let text = "content-TYPE: application/vscode-jsonrpc; charset=utf-8\r\nX-Whatever: 1\r\n"
            + "CONTENT-LENGTH:\(first.utf8.count)  \r\n\r\n\(first)"
        var framer = ContentLengthFramer()
        #expect(framer.feed(bytes(text)) == [.message(bytes(first))])
    }

    @Test func bareLineFeedsAndBlankLinesBetweenMessagesAreTolerated() {
        let text = "\r\n\nContent-Length: \(first.utf8.count)\n\n\(first)\r\n" + String(decoding: lspFrame(first), as: UTF8.self)
        var framer = ContentLengthFramer()
        #expect(framer.feed(bytes(text)) == [.message(bytes(first)), .message(bytes(first))])
    }

    @Test func invalidHeader() {
        var framer = ContentLengthFramer()
        let events = framer.feed(bytes("Content-Length: abc\r\n\r\n{}") + lspFrame(first))
        #expect(events.count == 2)
        guard case .error(.invalidHeader(let reason)) = events.first else {
            Issue.record("expected an invalid header error, got \(events)")
            return
        }
        #expect(reason.contains("Content-Length"))
        #expect(!reason.contains("abc"), "client bytes are never quoted back")
        #expect(events.last == .message(bytes(first)))
    }

    @Test func negativeLengthIsInvalid() {
        var framer = ContentLengthFramer()
        let events = framer.feed(bytes("Content-Length: -5\r\n\r\nhello") + lspFrame(first))
        #expect(events.count == 2)
        if case .error(.invalidHeader) = events[0] {} else { Issue.record("got \(events[0])") }
        #expect(events[1] == .message(bytes(first)))
    }

    @Test func missingContentLengthIsInvalid() {
        var framer = ContentLengthFramer()
        let events = framer.feed(bytes("Content-Type: text/plain\r\n\r\n{\"x\":1}") + lspFrame(first))
        #expect(events.count == 2)
        if case .error(.invalidHeader(let reason)) = events[0] {
            #expect(reason.contains("no Content-Length"))
        } else {
            Issue.record("got \(events[0])")
        }
        #expect(events[1] == .message(bytes(first)))
    }

    @Test func garbageHeaderRecovers() {
        // A line that is no header at all, then junk, then a good frame glued to the junk.
        let stream = bytes("this is not a header\r\nmore junk {\"a\":1}") + lspFrame(first) + lspFrame(second)
        for chunkSize in [1, 3, 7, stream.count] {
            var framer = ContentLengthFramer()
            var events: [FramerEvent] = []
            var index = 0
            while index < stream.count {
                events += framer.feed(stream[index..<min(index + chunkSize, stream.count)])
                index += chunkSize
            }
            #expect(events.count == 3, "chunk size \(chunkSize): \(events)")
            if case .error(.invalidHeader) = events.first {} else { Issue.record("chunk size \(chunkSize): \(events)") }
            #expect(Array(events.dropFirst()) == [.message(bytes(first)), .message(bytes(second))])
        }
    }

    @Test func conflictingContentLengthsAreInvalid() {
        var framer = ContentLengthFramer()
        let events = framer.feed(bytes("Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}") + lspFrame(first))
        if case .error(.invalidHeader) = events.first {} else { Issue.record("got \(events)") }
        #expect(events.last == .message(bytes(first)))
    }

    @Test func oversizedContentLengthIsSkipped() {
        let limits = FramingLimits(maxMessageBytes: 64)
        let big = String(repeating: "x", count: 1000)
        let stream = lspFrame(big) + lspFrame(first)
        for chunkSize in [1, 10, 100, stream.count] {
            var framer = ContentLengthFramer(limits: limits)
            var events: [FramerEvent] = []
            var index = 0
            while index < stream.count {
                events += framer.feed(stream[index..<min(index + chunkSize, stream.count)])
                index += chunkSize
            }
            #expect(
                events == [.error(.oversized(declaredLength: 1000, limit: 64)), .message(bytes(first))],
                "chunk size \(chunkSize)")
        }
    }

    @Test func hugeDeclaredLengthIsNotAllocated() {
        // A declared length near the integer limit must be counted, not reserved.
        var framer = ContentLengthFramer()
        let events = framer.feed(bytes("Content-Length: 999999999999999999\r\n\r\n{}"))
        #expect(events == [.error(.oversized(declaredLength: 999_999_999_999_999_999, limit: 16 << 20))])
        #expect(framer.isInsideMessage)
    }

    @Test func headerLineTooLong() {
        var framer = ContentLengthFramer(limits: FramingLimits(maxHeaderLineBytes: 32))
        let events = framer.feed(bytes("X-Long: " + String(repeating: "y", count: 100) + "\r\n\r\n") + lspFrame(first))
        #expect(events == [.error(.headerTooLong(limit: 32)), .message(bytes(first))])
    }

    @Test func headerBlockTooLong() {
        var framer = ContentLengthFramer(limits: FramingLimits(maxHeaderLineBytes: 32, maxHeaderBytes: 100))
        let many = String(repeating: "X-A: 1\r\n", count: 30)
        let events = framer.feed(bytes(many + "\r\n") + lspFrame(first))
        #expect(events == [.error(.headerTooLong(limit: 100)), .message(bytes(first))])
    }

    @Test func zeroLengthBodyIsAnEmptyMessage() {
        var framer = ContentLengthFramer()
        #expect(framer.feed(bytes("Content-Length: 0\r\n\r\n") + lspFrame(first)) == [.message([]), .message(bytes(first))])
    }

    @Test func partialFrameIsReportedAsInsideMessage() {
        var framer = ContentLengthFramer()
        #expect(framer.feed(lspFrame(first).dropLast(3)).isEmpty)
        #expect(framer.isInsideMessage)
    }

    // Issue 10, item 12: JSON where a header is due is reported, not taken for a header.

    @Test func anNDJSONLineWhereAHeaderIsDueIsAnError() {
        for line in [first, "[\(first)]"] {
            var framer = ContentLengthFramer()
            let events = framer.feed(bytes("\(line)\n") + lspFrame(second))
            #expect(events.count == 2, "\(line)")
            guard case .error(.invalidHeader(let reason)) = events.first else {
                Issue.record("expected an invalid header, got \(events)")
                continue
            }
            #expect(reason.contains("Content-Length"))
            #expect(events.last == .message(bytes(second)))
        }
    }

    @Test func anNDJSONLineAfterAFrameIsAnError() {
        var framer = ContentLengthFramer()
        let events = framer.feed(lspFrame(first) + bytes("\(first)\r\n") + lspFrame(second))
        #expect(events.count == 3)
        #expect(events.first == .message(bytes(first)))
        if case .error(.invalidHeader) = events[1] {} else { Issue.record("expected an error, got \(events[1])") }
        #expect(events.last == .message(bytes(second)))
    }
}
