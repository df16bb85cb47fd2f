import JSONRPC
import JanssonJSON
import Logging
import Synchronization

/// A connection and the client's end of it, in memory (like lsp-server's
/// `Connection::memory()`): bytes go in through `send`, and every frame the connection
/// writes comes back through an `AsyncStream` (see `ClientEnd`).
package final class MemoryConnection: ClientEnd {
    /// The server's end.
    package let connection: RPCConnection

    package init(
        configuration: ConnectionConfiguration = ConnectionConfiguration(),
        session: any RPCSession = TestSession(),
        methods: MethodTable = MethodTable(),
        logger: Logger = Logger(label: "JSONRPCTestSupport", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        let sink = StreamSink()
        connection = RPCConnection(
            configuration: configuration, session: session, methods: methods, sink: sink, logger: logger)
        super.init(sink: sink)
    }

    override package var replyFraming: Framing { connection.framing ?? .lsp }

    // MARK: - Client to server

    /// Hands `bytes` to the connection as one read.
    package func send(_ bytes: [UInt8]) {
        connection.receive(bytes)
    }

    /// Sends `body` as one LSP frame.
    package func send(lsp body: String) {
        send(lspFrame(body))
    }

    /// Sends `body` as one NDJSON line.
    package func send(line body: String) {
        send(Array((body + "\n").utf8))
    }

    /// Closes the input: running work gets `timeout` to finish, the rest is cancelled.
    package func finishInput(timeout: Duration = .seconds(20)) async {
        await connection.finishInput(timeout: timeout)
    }

    /// Closes the input, lets work finish and returns every message written.
    package func finish(timeout: Duration = .seconds(20)) async throws -> [JSON] {
        await finishInput(timeout: timeout)
        return try await messages()
    }
}

/// The client's end of a connection that writes into `sink`: every frame comes back through an
/// `AsyncStream`, and waits are bounded: a frame that does not come in time throws
/// `FrameTimeout`, so a broken test fails instead of hanging. Hand `sink` to whatever builds
/// the server's end (`MemoryConnection` does, and so can a composition root under test).
///
/// Use it from one test task at a time: it is not `Sendable`, since it holds the stream's
/// iterator.
package class ClientEnd {
    /// Where the server's end writes.
    package let sink: StreamSink
    private var frames: AsyncStream<[UInt8]>.Iterator
    /// Every message read so far, in order.
    package private(set) var received: [JSON] = []
    /// Their bodies, exactly as written.
    package private(set) var receivedBodies: [[UInt8]] = []
    /// The frames they came in, exactly as written.
    package private(set) var receivedFrames: [[UInt8]] = []
    private let fixedFraming: Framing

    /// A client end for a server that replies in `framing`.
    package convenience init(framing: Framing) {
        self.init(sink: StreamSink(), framing: framing)
    }

    init(sink: StreamSink, framing: Framing = .lsp) {
        self.sink = sink
        frames = sink.stream.makeAsyncIterator()
        fixedFraming = framing
    }

    /// The framing replies come in.
    package var replyFraming: Framing { fixedFraming }

    /// Frames the connection has written so far, read or not. Exact the moment `send`
    /// returns, so a test can tell what was answered inline.
    package var framesWritten: Int { sink.count }

    /// The next frame's message, waiting up to `limit` for it.
    @discardableResult
    package func nextMessage(within limit: Duration = .seconds(20)) async throws -> JSON {
        let continuation = sink.continuation
        let timer = Task {
            try await Task.sleep(for: limit)
            continuation.finish()
        }
        defer { timer.cancel() }
        guard let frame = await frames.next() else { throw FrameTimeout(waited: limit, received: received.count) }
        return try record(frame)
    }

    /// Reads until the response with `id`, keeping what came before it in `received`.
    package func response(to id: JSON, within limit: Duration = .seconds(20)) async throws -> JSON {
        if let earlier = received.first(where: { $0["id"] == id && $0["method"] == nil }) { return earlier }
        while true {
            let message = try await nextMessage(within: limit)
            if message["id"] == id, message["method"] == nil { return message }
        }
    }

    /// Reads until a notification of `method`, keeping what came before it in `received`.
    package func notification(_ method: String, within limit: Duration = .seconds(20)) async throws -> JSON {
        while true {
            let message = try await nextMessage(within: limit)
            if message["method"] == .string(method), message["id"] == nil { return message }
        }
    }

    /// Waits until `count` frames have been read in all, then returns every message read.
    @discardableResult
    package func waitForMessages(_ count: Int, within limit: Duration = .seconds(20)) async throws -> [JSON] {
        while received.count < count { try await nextMessage(within: limit) }
        return received
    }

    /// Every message written so far, read now without waiting for more.
    package func messages() async throws -> [JSON] {
        try await waitForMessages(framesWritten)
    }

    /// Every frame written so far, exactly as written.
    package func frames() async throws -> [[UInt8]] {
        try await waitForMessages(framesWritten)
        return receivedFrames
    }

    /// Every body written so far, exactly as written.
    package func bodies() async throws -> [[UInt8]] {
        try await waitForMessages(framesWritten)
        return receivedBodies
    }

    /// Lets `duration` pass and tells whether nothing was written meanwhile: for checking
    /// that something is held back, which no event can signal.
    package func staysSilent(for duration: Duration) async throws -> Bool {
        let before = framesWritten
        try await Task.sleep(for: duration)
        return framesWritten == before
    }

    private func record(_ frame: [UInt8]) throws -> JSON {
        receivedFrames.append(frame)
        let body = try unframe(frame, framing: replyFraming)
        let message = try JSON.parse(body)
        receivedBodies.append(body)
        received.append(message)
        return message
    }
}

/// The body of `frame`, which must hold exactly one whole frame: a write never splits or
/// joins frames.
package func unframe(_ frame: [UInt8], framing: Framing) throws -> [UInt8] {
    var framer = AutoFramer(framing: framing)
    let events = framer.feed(frame)
    guard events.count == 1, !framer.isInsideMessage, case .message(let body) = events[0] else {
        throw MalformedFrame(frame: frame, framing: framing)
    }
    return body
}

/// An LSP frame around `body`.
package func lspFrame(_ body: String) -> [UInt8] {
    Array("Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
}

/// No frame came within the time a test allowed.
package struct FrameTimeout: Error, CustomStringConvertible {
    package let waited: Duration
    package let received: Int
    package var description: String { "no frame within \(waited) (after \(received) message(s))" }
}

/// A write that was not exactly one frame in the reply framing.
package struct MalformedFrame: Error, CustomStringConvertible {
    package let frame: [UInt8]
    package let framing: Framing
    package var description: String { "a write is not exactly one \(framing) frame: \(String(decoding: frame.prefix(200), as: UTF8.self))" }
}

/// The server end's sink: counts each frame, then yields it to the client's stream.
package final class StreamSink: FrameSink {
    let stream: AsyncStream<[UInt8]>
    let continuation: AsyncStream<[UInt8]>.Continuation
    private let written = Atomic<Int>(0)

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
    }

    var count: Int { written.load(ordering: .acquiring) }

    package func write(_ frame: [UInt8]) {
        // Yield first: a count the reader sees is never ahead of the stream.
        continuation.yield(frame)
        written.add(1, ordering: .releasing)
    }
}
