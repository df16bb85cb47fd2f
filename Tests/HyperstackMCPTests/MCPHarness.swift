import Foundation
import HyperstackMCP
import HyperstackRPCHost
import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Logging
import SecureFiles

/// An MCP session over a real server on the embedded sandbox, with a private secrets
/// directory, driven through an in-memory client end.
final class MCPHarness {
    let server: HyperstackServer
    let client = ClientEnd(framing: .ndjson)
    let session: HyperstackSession
    let secretsDirectory: String
    private var nextID: Int64 = 100

    init(inlineSecrets: Bool = false) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-\(UUID().uuidString)").path
        secretsDirectory = base + "/secrets"
        let settings = Settings(
            sandbox: true, sandboxState: nil, baseURL: nil, apiKeyFile: nil, accessTokenFile: nil, cacheTTL: 30,
            pollInterval: 0, timeout: 30, rateLimit: 500, framing: .ndjson, maxMessageBytes: 1 << 20, maxInFlight: 64,
            logLevel: nil, logFile: nil)
        server = try HyperstackServer(
            settings: settings, secretFiles: SecretFilePolicy(secretsDirectory: secretsDirectory),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        session = server.openMCPSession(sink: client.sink, inlineSecrets: inlineSecrets)
    }

    deinit {
        session.stop()
        try? FileManager.default.removeItem(atPath: (secretsDirectory as NSString).deletingLastPathComponent)
    }

    func send(_ message: JSON) throws {
        let line = try message.serialized() + [UInt8(ascii: "\n")]
        line.withUnsafeBytes { session.receive($0) }
    }

    /// Sends a request and returns its response.
    func request(_ method: String, _ params: JSON? = nil) async throws -> JSON {
        let id = try start(method, params)
        return try await client.response(to: id)
    }

    /// Sends a request and returns its id, without waiting for the response.
    func start(_ method: String, _ params: JSON? = nil) throws -> JSON {
        nextID += 1
        var message: JSONObject = ["jsonrpc": "2.0", "id": .int(nextID), "method": .string(method)]
        if let params { message["params"] = params }
        try send(.object(message))
        return .int(nextID)
    }

    func initialize(version: String = "2025-11-25", capabilities: JSON = [:]) async throws -> JSON {
        let response = try await request(
            "initialize", ["protocolVersion": .string(version), "capabilities": capabilities, "clientInfo": ["name": "test", "version": "1"]])
        try send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        return response
    }

    func callTool(_ name: String, _ arguments: JSON) async throws -> JSON {
        try await request("tools/call", ["name": .string(name), "arguments": arguments])
    }
}

extension JSON {
    /// An array's element, for reading results in tests.
    subscript(index: Int) -> JSON? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
