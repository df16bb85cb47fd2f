import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Locking
import Logging
import Synchronization
import Testing

/// Counts something across tasks.
final class Counter: Sendable {
    private let value = Lock<[String]>([])
    func record(_ item: String) { value.withLock { $0.append(item) } }
    var items: [String] { value.withLock { $0 } }
}

let quietLogger = Logger(label: "JSONRPCTests", factory: { _ in SwiftLogNoOpLogHandler() })

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

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
        await untilCancelled()
        log.record("slow saw cancellation: \(context.isCancelled)")
        return .json("too late")
    }
    table.registerNotification("update") { params in
        log.record("update \((try? params?.serializedString()) ?? "nil")")
    }
    return table
}

/// A connection to the test methods, with the client's end in memory.
func makeConnection(
    methods: MethodTable = testMethods(),
    framing: Framing = .auto,
    maxMessageBytes: Int = ConnectionConfiguration.defaultMaxMessageBytes,
    maxInFlight: Int = ConnectionConfiguration.defaultMaxInFlight,
    session: TestSession = TestSession()
) -> MemoryConnection {
    MemoryConnection(
        configuration: ConnectionConfiguration(framing: framing, maxMessageBytes: maxMessageBytes, maxInFlight: maxInFlight),
        session: session, methods: methods, logger: quietLogger)
}

/// Sends each text as an LSP frame, lets all work finish and returns the replies.
func exchange(_ bodies: [String], methods: MethodTable = testMethods(), session: TestSession = TestSession())
    async throws -> [JSON]
{
    let peer = makeConnection(methods: methods, session: session)
    for body in bodies { peer.send(lsp: body) }
    return try await peer.finish()
}

/// Suspends until the current task is cancelled, without polling.
func untilCancelled() async {
    let never = Latch()
    await withTaskCancellationHandler {
        await never.wait()
    } onCancel: {
        never.open()
    }
}

/// Shorthand for parsing expected JSON in assertions.
func json(_ text: String) -> JSON {
    do { return try JSON.parse(text) } catch {
        Issue.record("bad test JSON \(text): \(error)")
        return .null
    }
}
