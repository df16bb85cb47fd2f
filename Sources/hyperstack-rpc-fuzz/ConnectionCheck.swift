import Dispatch
import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Logging

/// Feeds the input to a real `RPCConnection`, lets all work finish, and checks what it
/// wrote: whole frames only, in the input's framing; every body ASCII JSON; every
/// response a well-formed JSON-RPC 2.0 response; and exactly one answer per request,
/// per unreadable message and per framing error, batches included.
struct ConnectionCheck {
    let bytes: [UInt8]
    let seed: UInt64

    func run() {
        let limits = fuzzLimits(seed: seed >> 1)
        let framing = [Framing.auto, .auto, .lsp, .ndjson][Int((seed >> 40) % 4)]
        let parseOptions = JSONParseOptions(maxDepth: seed & (1 << 50) == 0 ? 256 : 8, rejectDuplicateKeys: seed & (1 << 51) != 0)
        let configuration = ConnectionConfiguration(
            framing: framing, maxMessageBytes: limits.maxMessageBytes, maxHeaderLineBytes: limits.maxHeaderLineBytes,
            maxHeaderBytes: limits.maxHeaderBytes, parseOptions: parseOptions)
        let sink = FrameCollector()
        let session = TestSession(
            result: ["serverInfo": ["name": "hyperstack-rpc-fuzz", "version": "0"]],
            onInitialize: { _ in await Task.yield() })
        let connection = RPCConnection(
            configuration: configuration, session: session, methods: fuzzMethods(), sink: sink, logger: silentLogger)

        bytes.withUnsafeBytes { all in
            for range in ChunkPlan(count: bytes.count, seed: seed ^ 0xa5a5).ranges {
                connection.receive(UnsafeRawBufferPointer(rebasing: all[range]))
            }
        }
        let finished = DispatchSemaphore(value: 0)
        Task {
            await connection.finishInput(timeout: .seconds(30))
            finished.signal()
        }
        finished.wait()

        let replyFraming = connection.framing ?? .lsp
        let answers = sink.written.reduce(0) { $0 + checkFrame($1, framing: replyFraming) }
        let expected = expectedAnswers(framing: framing, limits: limits, parseOptions: parseOptions)
        require(answers == expected, "the connection gave \(answers) answers where \(expected) were due")
    }

    /// Checks one written frame; returns how many responses it carries.
    private func checkFrame(_ frame: [UInt8], framing: Framing) -> Int {
        var framer = AutoFramer(framing: framing)
        let found = framer.feed(frame)
        require(found.count == 1 && !framer.isInsideMessage, "a write is not exactly one \(framing) frame: \(excerpt(frame))")
        guard case .message(let body)? = found.first else {
            require(false, "a written frame did not frame: \(excerpt(frame))")
            return 0
        }
        require(body.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "\n") }, "a body holds a non-ASCII byte or a line feed: \(excerpt(body))")
        let message: JSON
        do {
            message = try JSON.parse(body)
        } catch {
            require(false, "a written body is not JSON (\(error)): \(excerpt(body))")
            return 0
        }
        switch message {
        case .array(let entries):
            require(!entries.isEmpty, "an empty batch response was written")
            for entry in entries { checkResponse(entry, body: body) }
            return entries.count
        case .object where message["method"] != nil:
            require(message["method"] == "fuzz/progress" && message["id"] == nil && message["jsonrpc"] == "2.0",
                "an unexpected notification: \(excerpt(body))")
            return 0
        default:
            checkResponse(message, body: body)
            return 1
        }
    }

    private func checkResponse(_ response: JSON, body: [UInt8]) {
        guard case .object(let object) = response else {
            require(false, "a response is not an object: \(excerpt(body))")
            return
        }
        require(object["jsonrpc"] == "2.0", "a response lacks \"jsonrpc\":\"2.0\": \(excerpt(body))")
        require(object["id"].flatMap(RequestID.init(json:)) != nil, "a response has no valid id: \(excerpt(body))")
        require(object.count == 3 && (object["result"] == nil) != (object["error"] == nil),
            "a response must have exactly one of result and error: \(excerpt(body))")
        if let error = object["error"] {
            guard let parsed = RPCError(json: error) else {
                require(false, "a malformed error object: \(excerpt(body))")
                return
            }
            let known = [-32700, -32600, -32601, -32602, -32603, -32800, fuzzFailureCode]
            require(known.contains(parsed.code), "an unexpected error code \(parsed.code): \(excerpt(body))")
        }
    }

    /// Every framing error, unreadable message, invalid entry and request is answered
    /// exactly once; notifications and responses never are.
    private func expectedAnswers(framing: Framing, limits: FramingLimits, parseOptions: JSONParseOptions) -> Int {
        var framer = AutoFramer(framing: framing, limits: limits)
        var count = 0
        for event in framer.feed(bytes) {
            guard case .message(let body) = event else {
                count += 1
                continue
            }
            guard let json = try? JSON.parse(body, options: parseOptions) else {
                count += 1
                continue
            }
            if case .array(let entries) = json {
                count += entries.isEmpty ? 1 : entries.reduce(0) { $0 + (isAnswered($1) ? 1 : 0) }
            } else {
                count += isAnswered(json) ? 1 : 0
            }
        }
        return count
    }

    private func isAnswered(_ json: JSON) -> Bool {
        do {
            if case .request = try RPCMessage(decoding: json) { return true }
            return false
        } catch {
            let looksLikeResponse = json["method"] == nil && (json["result"] != nil || json["error"] != nil)
            return !looksLikeResponse
        }
    }
}

/// The connection's logs are not part of what is checked; keep the fuzzer's output clean.
private let silentLogger = Logger(label: "hyperstack-rpc-fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
