import JSONRPC
import Testing

@Suite struct NDJSONFramerTests {
    let first = #"{"jsonrpc":"2.0","id":1,"method":"a"}"#
    let second = #"[{"jsonrpc":"2.0","id":2,"method":"b","params":["ü","😀"]}]"#

    @Test func linesAreMessages() {
        var framer = NDJSONFramer()
        #expect(framer.feed(bytes("\(first)\n\(second)\n")) == [.message(bytes(first)), .message(bytes(second))])
    }

    @Test func crlfAndBlankLinesAreTolerated() {
        var framer = NDJSONFramer()
        let events = framer.feed(bytes("\n\r\n  \t\n\(first)\r\n\r\n\(second)\n"))
        #expect(events == [.message(bytes(first)), .message(bytes(second))])
    }

    @Test func splitMessage() {
        let stream = bytes("\(first)\n\(second)\r\n")
        for split in 1..<stream.count {
            var framer = NDJSONFramer()
            let events = framer.feed(stream[..<split]) + framer.feed(stream[split...])
            #expect(events == [.message(bytes(first)), .message(bytes(second))], "split at \(split)")
        }
    }

    @Test func oneBytePerChunk() {
        var framer = NDJSONFramer()
        var events: [FramerEvent] = []
        for byte in bytes("\(second)\n\(first)\n") { events += framer.feed([byte]) }
        #expect(events == [.message(bytes(second)), .message(bytes(first))])
    }

    @Test func lineWithoutFinalNewlineWaits() {
        var framer = NDJSONFramer()
        #expect(framer.feed(bytes(first)).isEmpty)
        #expect(framer.isInsideMessage)
        #expect(framer.feed(bytes("\n")) == [.message(bytes(first))])
    }

    @Test func oversizedLineIsDiscarded() {
        let limits = FramingLimits(maxMessageBytes: 50)
        let long = "[" + String(repeating: "1,", count: 200) + "1]"
        let stream = bytes("\(long)\n\(first)\n")
        for chunkSize in [1, 13, 64, stream.count] {
            var framer = NDJSONFramer(limits: limits)
            var events: [FramerEvent] = []
            var index = 0
            while index < stream.count {
                events += framer.feed(stream[index..<min(index + chunkSize, stream.count)])
                index += chunkSize
            }
            #expect(events == [.error(.oversized(declaredLength: nil, limit: 50)), .message(bytes(first))], "chunk size \(chunkSize)")
        }
    }

    @Test func lineOfExactlyTheLimitIsAccepted() {
        var framer = NDJSONFramer(limits: FramingLimits(maxMessageBytes: first.utf8.count))
        #expect(framer.feed(bytes("\(first)\r\n")) == [.message(bytes(first))])
    }
}
