import Foundation
import HTTPTypes
import HyperstackSandbox
import InfrahubWire
import JanssonJSON
import Logging
import Testing

/// The configured key every test authenticates with.
let configuredKey = "configured-test-key"

let quietLogger = Logger(label: "sandbox-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A real sandbox behind its real embedded transport, plus helpers that speak HTTP to it.
struct SandboxHarness {
    let sandbox: Sandbox
    let transport: SandboxTransport

    init(
        maxKeys: Int = 50, statePath: String? = nil, accessTokens: [String] = [], generateRequiresAccessToken: Bool = false
    ) throws {
        sandbox = try Sandbox(
            configuration: SandboxConfiguration(
                apiKeys: [configuredKey], accessTokens: accessTokens, generateRequiresAccessToken: generateRequiresAccessToken,
                maxKeys: maxKeys, statePath: statePath),
            logger: quietLogger)
        transport = SandboxTransport(sandbox: sandbox)
    }

    /// Sends a request the way a client would: `api_key` header (and `Authorization` when
    /// given), JSON body.
    func send(
        _ method: String, _ path: String, body: JSON? = nil, rawBody: String? = nil,
        apiKey: String? = configuredKey, authorization: String? = nil, timeout: Duration = .seconds(5)
    ) async throws -> InfrahubResponse {
        var headers: HTTPFields = [.accept: "application/json"]
        if let apiKey { headers[.apiKey] = apiKey }
        if let authorization { headers[.authorization] = authorization }
        var bytes: [UInt8]?
        if let body { bytes = try body.serialized() }
        if let rawBody { bytes = Array(rawBody.utf8) }
        if bytes != nil { headers[.contentType] = "application/json" }
        let head = HTTPRequest(
            method: try #require(HTTPRequest.Method(method)), scheme: nil, authority: nil, path: path, headerFields: headers)
        return try await transport.send(InfrahubRequest(head: head, body: bytes), timeout: timeout)
    }

    /// Generates a key and returns the `api_key` object of the answer (with the full secret).
    func generate(_ name: String, description: String? = nil) async throws -> JSON {
        var body: JSONObject = ["name": .string(name)]
        if let description { body["description"] = .string(description) }
        let response = try await send("POST", "/api-key/generate", body: .object(body))
        try #require(response.status == 200, "generate answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        return try #require(try response.json()["api_key"])
    }

    func list() async throws -> [JSON] {
        let response = try await send("GET", "/api-key")
        try #require(response.status == 200)
        return try #require(try response.json()["api_keys"]?.arrayValue)
    }
}

extension InfrahubResponse {
    var status: Int { head.status.code }

    func json() throws -> JSON { try JSON.parse(body) }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `error_reason` of a documented error body.
    var errorReason: String? { (try? json())?["error_reason"]?.stringValue }
}

/// A fresh directory under the system temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// `String(repeating:count:)` for names of a given length.
func name(length: Int, of character: Character = "a") -> String {
    String(repeating: character, count: length)
}
