@testable import JSONRPC
import JSONRPCTestSupport
import Testing

@Suite struct FrameEncodingTests {
    @Test func lspFrameHasContentLengthOfBytes() {
        let body = bytes(#"{"s":"\u00e9"}"#)
        #expect(encodeFrame(body: body, framing: .lsp) == bytes("Content-Length: \(body.count)\r\n\r\n") + body)
    }

    @Test func ndjsonFrameEndsWithNewline() {
        #expect(encodeFrame(body: bytes("{}"), framing: .ndjson) == bytes("{}\n"))
    }

    @Test func encodedFramesRoundTrip() {
        let body = bytes(#"{"jsonrpc":"2.0","id":"x","result":[1,2]}"#)
        for framing in [Framing.lsp, .ndjson] {
            var framer = AutoFramer(framing: framing)
            #expect(framer.feed(encodeFrame(body: body, framing: framing)) == [.message(body)])
        }
    }
}
