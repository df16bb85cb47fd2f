import JSONRPC
import JanssonJSON
import Logging
import Synchronization
import Testing

/// A real frame sink that keeps every frame it is given, in order.
final class CollectingSink: FrameSink {
    private let frames = Mutex<[[UInt8]]>([])

    func write(_ frame: [UInt8]) {
        frames.withLock { $0.append(frame) }
    }

    var written: [[UInt8]] { frames.withLock { $0 } }

    /// Waits (bounded, generously) until at least `count` frames were written.
    func waitForFrames(_ count: Int, within limit: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if frames.withLock({ $0.count }) >= count { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return false
    }
}

/// A one-shot signal tests use to hold a handler until they let it go.
final class Latch: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

/// Counts something across tasks.
final class Counter: Sendable {
    private let value = Mutex<[String]>([])
    func record(_ item: String) { value.withLock { $0.append(item) } }
    var items: [String] { value.withLock { $0 } }
}

let quietLogger = Logger(label: "JSONRPCTests", factory: { _ in SwiftLogNoOpLogHandler() })

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// An LSP frame around `body`.
func lspFrame(_ body: String) -> [UInt8] {
    bytes("Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
}

/// Message bodies found by a framer in everything the sink was given; also proves each
/// write held whole frames only.
func bodies(of frames: [[UInt8]], framing: Framing) -> [[UInt8]] {
    var result: [[UInt8]] = []
    for frame in frames {
        var framer = AutoFramer(framing: framing)
        let events = framer.feed(frame)
        #expect(events.count == 1, "each write must hold exactly one frame")
        #expect(!framer.isInsideMessage, "a write must not end inside a frame")
        for case .message(let body) in events { result.append(body) }
    }
    return result
}

/// The sink's output, decoded as JSON values.
func messages(_ sink: CollectingSink, framing: Framing = .lsp) throws -> [JSON] {
    try bodies(of: sink.written, framing: framing).map { try JSON.parse($0) }
}

/// The methods used by the tests: the ones of the JSON-RPC 2.0 spec's examples, plus a
/// few that exercise failure, slowness and notifications.
func testMethods(gate: Latch = Latch(), started: Latch = Latch(), log: Counter = Counter()) -> MethodTable {
    var table = MethodTable()
    table.register("subtract") { params, _ in
        if let list = params?.arrayValue {
            guard list.count == 2, let a = list[0].intValue, let b = list[1].intValue else {
                throw RPCError.invalidParams(field: "params", reason: "must be two integers")
            }
            return .json(.int(a - b))
        }
        guard let minuend = params?["minuend"]?.intValue else {
            throw RPCError.invalidParams(field: "minuend", reason: "must be an integer")
        }
        guard let subtrahend = params?["subtrahend"]?.intValue else {
            throw RPCError.invalidParams(field: "subtrahend", reason: "must be an integer")
        }
        return .json(.int(minuend - subtrahend))
    }
    table.register("sum") { params, _ in
        let total = (params?.arrayValue ?? []).compactMap(\.intValue).reduce(0, +)
        return .json(.int(total))
    }
    table.register("get_data") { _, _ in .json(["hello", 5]) }
    table.register("echo") { params, _ in .json(params ?? .null) }
    table.register("cached") { _, _ in .serialized(bytes(#"{"keys":[1,2,3],"note":"spliced as-is"}"#)) }
    table.register("explode") { _, _ in
        struct Boom: Error {}
        throw Boom()
    }
    table.register("nan") { _, _ in .json(.double(.nan)) }
    table.register("chatty") { params, context in
        context.notify("progress", params: ["step": 1])
        context.notify("progress", params: ["step": 2])
        return .json(params ?? .null)
    }
    table.register("gated") { _, _ in
        log.record("gated started")
        started.open()
        await gate.wait()
        return .json("released")
    }
    table.register("slow") { _, context in
        started.open()
        // Runs until cancelled; then returns a value that must never be sent.
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
        log.record("slow saw cancellation: \(context.isCancelled)")
        return .json("too late")
    }
    table.registerNotification("update") { params in
        log.record("update \((try? params?.serializedString()) ?? "nil")")
    }
    return table
}

func makeConnection(
    methods: MethodTable = testMethods(),
    framing: Framing = .auto,
    maxMessageBytes: Int = 16 << 20,
    maxInFlight: Int = ConnectionConfiguration.defaultMaxInFlight,
    hooks: ConnectionHooks = ConnectionHooks()
) -> (RPCConnection, CollectingSink) {
    let sink = CollectingSink()
    let configuration = ConnectionConfiguration(
        serverName: "test-server", serverVersion: "1.2.3", capabilities: ["apiKeys": true],
        framing: framing, maxMessageBytes: maxMessageBytes, maxInFlight: maxInFlight)
    let connection = RPCConnection(
        configuration: configuration, methods: methods, sink: sink, logger: quietLogger, hooks: hooks)
    return (connection, sink)
}

/// Sends each text as an LSP frame, lets all work finish and returns the replies.
func exchange(_ bodies: [String], methods: MethodTable = testMethods(), hooks: ConnectionHooks = ConnectionHooks())
    async throws -> [JSON]
{
    let (connection, sink) = makeConnection(methods: methods, hooks: hooks)
    for body in bodies { connection.receive(lspFrame(body)) }
    await connection.finishInput(timeout: .seconds(20))
    return try messages(sink)
}

/// Shorthand for parsing expected JSON in assertions.
func json(_ text: String) -> JSON {
    do { return try JSON.parse(text) } catch {
        Issue.record("bad test JSON \(text): \(error)")
        return .null
    }
}
