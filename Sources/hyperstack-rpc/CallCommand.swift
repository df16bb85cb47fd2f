import ArgumentParser
import Foundation
import HyperstackRPCServer
import InfrahubClient
import JSONRPC
import JanssonJSON
import Logging

/// `hyperstack-rpc call METHOD [PARAMS_JSON]`: one request, for shells.
///
/// The request goes through the same connection and method table as the server, so a
/// one-shot behaves exactly like a session. The result goes to stdout; an error object
/// goes to stderr with exit status 1; a usage error exits with 2.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Run one method and print its result as JSON.",
        discussion: "Example: hyperstack-rpc call apiKeys.list '{}' --sandbox | jq '.keys[].name'"
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
        let responses = ResponseCollector()
        let notifier = ChangeNotifier()
        let upstream = try Upstream(settings: options.settings, logger: logger) { notifier.publish($0) }
        let includeTestMethods = Environment.value(TestOnlyMethods.environmentVariable) == "1"
        let connection = RPCConnection(
            configuration: ConnectionConfiguration(
                serverName: ServerIdentity.name,
                serverVersion: ServerIdentity.version,
                capabilities: ServerIdentity.capabilities,
                framing: .ndjson,
                maxMessageBytes: options.maxMessageBytes),
            methods: ServerMethods.table(store: upstream.store, includeTestMethods: includeTestMethods),
            sink: responses,
            logger: logger,
            hooks: ConnectionHooks(onInitialize: { _ in }, onExit: { _ in }, onShutdown: {}))

        var request: JSONObject = ["jsonrpc": "2.0", "id": 1, "method": .string(method)]
        if let params { request["params"] = try JSON.parse(params) }
        let line = try JSON.object(request).serialized() + [UInt8(ascii: "\n")]
        line.withUnsafeBytes { connection.receive($0) }

        let response = await responses.response(id: 1)
        await upstream.shutdown()
        if let result = response["result"] {
            FileHandle.standardOutput.write(Data(try result.serialized() + [UInt8(ascii: "\n")]))
            Foundation.exit(0)
        }
        let error = response["error"] ?? ["code": -32603, "message": "no response"]
        FileHandle.standardError.write(Data(try error.serialized() + [UInt8(ascii: "\n")]))
        Foundation.exit(1)
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
