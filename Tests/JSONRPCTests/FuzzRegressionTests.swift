import JSONRPC
import JSONRPCTestSupport
import Testing

/// Inputs the fuzzers (Tests/Fuzz) found to break an invariant, kept so the bug stays fixed.
@Suite struct FuzzRegressionTests {
    /// Every way of cutting `stream` into two reads, plus one byte per read.
    private func splits(of stream: [UInt8]) -> [[ArraySlice<UInt8>]] {
        var result = (0...stream.count).map { [stream[..<$0], stream[$0...]] }
        result.append(stream.indices.map { stream[$0...$0] })
        return result
    }

    /// A short line followed by many blanks was accepted when it arrived in one read and
    /// refused as oversized when the blanks came in a later read: the streaming path
    /// counted the untrimmed bytes against the limit.
    @Test func regressionFuzzNDJSONTrailingBlanksDependOnChunking() {
        let line = #"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#
        let limits = FramingLimits(maxMessageBytes: 64)
        let stream = bytes(line + String(repeating: " ", count: 100) + "\r\n" + line + "\n")
        for reads in splits(of: stream) {
            var framer = NDJSONFramer(limits: limits)
            let events = reads.flatMap { framer.feed($0) }
            #expect(events == [.message(bytes(line)), .message(bytes(line))], "reads of \(reads.map(\.count))")
        }
    }

    /// The same for leading blanks: they never count against the limit.
    @Test func regressionFuzzNDJSONLeadingBlanksDependOnChunking() {
        let line = #"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#
        let stream = bytes(String(repeating: "\t", count: 100) + line + "\n")
        for reads in splits(of: stream) {
            var framer = NDJSONFramer(limits: FramingLimits(maxMessageBytes: 64))
            #expect(reads.flatMap { framer.feed($0) } == [.message(bytes(line))], "reads of \(reads.map(\.count))")
        }
    }

    /// Content after blanks that ran past the limit still makes the line oversized, once.
    @Test func regressionFuzzNDJSONContentAfterDroppedBlanksIsOversized() {
        let stream = bytes("[1" + String(repeating: " ", count: 100) + "]\n[2]\n")
        for reads in splits(of: stream) {
            var framer = NDJSONFramer(limits: FramingLimits(maxMessageBytes: 64))
            let events = reads.flatMap { framer.feed($0) }
            #expect(events == [.error(.oversized(declaredLength: nil, limit: 64)), .message(bytes("[2]"))], "reads of \(reads.map(\.count))")
        }
    }
}

/// Auto framing and the blank lines a client may send before its first message.
@Suite struct FuzzRegressionAutoFramingTests {
    let ping = #"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#

    /// `RPCConnection.receive` asks `decide(from:)` before `feed`; the blanks in front of
    /// the first byte then reached the LSP framer as a header line (" \t\r\n" → -32700),
    /// but only when they arrived in the same read as that byte.
    @Test func regressionFuzzAutoFramingSkipsLeadingBlanksAfterDecide() {
        var framer = AutoFramer()
        let stream = bytes("\r\n  \t\r\n") + lspFrame(ping)
        let events = stream.withUnsafeBytes { chunk -> [FramerEvent] in
            #expect(framer.decide(from: chunk) == .lsp)
            var found: [FramerEvent] = []
            framer.feed(chunk, onMessage: { found.append(.message(Array($0))) }, onError: { found.append(.error($0)) })
            return found
        }
        #expect(events == [.message(bytes(ping))])
    }

    @Test func regressionFuzzConnectionIgnoresBlanksBeforeAnLSPFrame() async throws {
        let peer = makeConnection()
        peer.send(bytes(" \t\r\n \r\n") + lspFrame(ping))
        await peer.finishInput(timeout: .seconds(20))
        #expect(try await peer.messages() == [json(#"{"jsonrpc":"2.0","id":1,"result":{}}"#)])
    }
}

/// LeakSanitizer, at the end of a fuzz run, found whole connections never freed.
@Suite struct FuzzRegressionLeakTests {
    /// A batch's collector held the connection while the connection's task table held
    /// the collector (as the answer's destination) until a sweep: a retain cycle. Tasks
    /// and collectors now hold only the outbox and the tracker, never the connection, so
    /// it is freed the moment its last owner lets go.
    @Test func regressionFuzzLeakConnectionIsFreedAfterABatch() async throws {
        weak var released: RPCConnection?
        do {
            let peer = makeConnection()
            released = peer.connection
            peer.send(bytes(#"[{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]},{"jsonrpc":"2.0","id":2,"method":"sum","params":[1,2]}]"# + "\n"))
            await peer.finishInput(timeout: .seconds(20))
            #expect(try await peer.frames() == [bytes(#"[{"jsonrpc":"2.0","id":1,"result":[1]},{"jsonrpc":"2.0","id":2,"result":3}]"# + "\n")])
        }
        #expect(released == nil, "the connection is still alive after its batch was answered and it was dropped")
    }
}
