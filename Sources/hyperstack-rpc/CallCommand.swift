import ArgumentParser
import Foundation
import HyperstackRPCServer
import HyperstackSandbox
import InfrahubClient
import JSONRPC
import JanssonJSON
import Logging

/// `hyperstack-rpc call METHOD [PARAMS_JSON]`: one request, for shells.
///
/// The request goes through the same connection and method table as the server, so a
/// one-shot behaves exactly like a session. The result goes to stdout; an error object
/// goes to stderr with exit status 1; a usage error exits with 2; a result that cannot be
/// written to stdout (a full disk, a closed pipe) exits with 3 and says on stderr that the
/// operation itself succeeded.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Run one method and print its result as JSON.",
        discussion: """
            Example: hyperstack-rpc call apiKeys.list '{}' --sandbox | jq '.keys[].name'
            Exit status: 0 the result is on stdout; 1 the method failed (the error object is on stderr); \
            2 usage error; 3 the method succeeded but its result could not be written to stdout. \
            With --sandbox-state, waits up to 10 s for another process using that file.
            """
    )

    @Argument(help: "The method, e.g. apiKeys.list.")
    var method: String

    @Argument(help: "Params as a JSON object (default: {}).")
    var params: String?

    @OptionGroup var options: SharedOptions

    func validate() throws {
        if let params {
            let parsed: JSON
            do {
                parsed = try JSON.parse(params)
            } catch {
                throw ValidationError("PARAMS_JSON is not valid JSON: \(error)")
            }
            guard parsed.objectValue != nil || parsed.arrayValue != nil else {
                throw ValidationError("PARAMS_JSON must be a JSON object, not \(parsed.typeName)")
            }
        }
    }

    func run() async throws {
        let logger = try LoggingSetup.bootstrap(level: options.logLevel ?? .warning, file: options.logFile)
        // A reader that went away is EPIPE, reported below, not a silent death by SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        // One-shot calls queue for the state file rather than fail at once; a server holds it for its life.
        let stateLock = try options.sandboxState.map { try SandboxStateLock(statePath: $0, wait: Self.stateLockWait) }
        let responses = ResponseCollector()
        let notifier = ChangeNotifier()
        let upstream = try Upstream(settings: options.settings, logger: logger) { notifier.publish($0) }
        let includeTestMethods = Environment.value(TestOnlyMethods.environmentVariable) == "1"
        let connection = RPCConnection(
            configuration: ConnectionConfiguration(framing: .ndjson, maxMessageBytes: options.maxMessageBytes),
            session: LSPSession(),
            methods: ServerMethods.table(store: upstream.store, includeTestMethods: includeTestMethods),
            sink: responses,
            logger: logger)

        var request: JSONObject = ["jsonrpc": "2.0", "id": 1, "method": .string(method)]
        if let params { request["params"] = try JSON.parse(params) }
        let line = try JSON.object(request).serialized() + [UInt8(ascii: "\n")]
        line.withUnsafeBytes { connection.receive($0) }

        let response = await responses.response(id: 1)
        await upstream.shutdown()
        withExtendedLifetime(stateLock) {}
        if let result = response["result"] {
            let failure = OutputDescriptor.writeAll(STDOUT_FILENO, try result.serialized() + [UInt8(ascii: "\n")])
            if failure != 0 {
                StandardError.write(Self.undeliveredMessage(method: method, result: result, errorNumber: failure))
                Foundation.exit(Self.undeliveredStatus)
            }
            Foundation.exit(0)
        }
        let error = response["error"] ?? ["code": -32603, "message": "no response"]
        StandardError.write(String(decoding: try error.serialized(), as: UTF8.self) + "\n")
        Foundation.exit(1)
    }

    /// How long a call waits for another process to release `--sandbox-state`.
    static let stateLockWait = Duration.seconds(10)

    /// Exit status when the method succeeded but its result could not be written to stdout.
    static let undeliveredStatus: Int32 = 3

    /// Says that the operation itself happened, and for a generated key that its secret is
    /// lost (it is never printed anywhere else, so this message does not carry it either).
    static func undeliveredMessage(method: String, result: JSON, errorNumber: Int32) -> String {
        let cause = String(cString: strerror(errorNumber))
        var message = "hyperstack-rpc: \(method) succeeded, but its result could not be written to standard output (\(cause))."
        if method == "apiKeys.generate" {
            let id = result["key"]?["id"]?.intValue.map { " \($0)" } ?? ""
            message += " The key\(id) was created, but its secret could not be delivered and cannot be shown again: "
                + "delete key\(id) and generate a new one."
        }
        return message + "\n"
    }
}

/// Receives the frames a one-shot call produces and hands back the response.
final class ResponseCollector: FrameSink {
    private let stream: AsyncStream<[UInt8]>
    private let continuation: AsyncStream<[UInt8]>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func write(_ frame: [UInt8]) {
        continuation.yield(frame)
    }

    /// The first frame that is a response to `id`; notifications are skipped.
    func response(id: Int64) async -> JSON {
        for await frame in stream {
            guard let message = try? JSON.parse(frame), message["id"]?.intValue == id else { continue }
            return message
        }
        return ["error": ["code": -32603, "message": "the server produced no response"]]
    }
}
