import AsyncHTTPClient
import HyperstackSandbox
import JanssonJSON
import NIOCore
import NIOHTTP1
import SandboxHTTPServer
import Testing

@Suite struct SandboxHTTPServerTests {
    struct Answer {
        var status: Int
        var headers: [(String, String)]
        var json: JSON?
    }

    /// Runs a real server on 127.0.0.1 with an ephemeral port for the duration of `body`.
    func withServer(_ body: (Sandbox, String) async throws -> Void) async throws {
        let sandbox = try Sandbox(configuration: SandboxConfiguration(apiKeys: [configuredKey]), logger: quietLogger)
        let server = SandboxHTTPServer(sandbox: sandbox, host: "127.0.0.1", port: 0, logger: quietLogger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let serverTask = Task { try await server.run { port in continuation.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do {
            try await body(sandbox, "http://127.0.0.1:\(port)")
        } catch {
            serverTask.cancel()
            throw error
        }
        serverTask.cancel()
        _ = try? await serverTask.value
    }

    func call(_ method: HTTPMethod, _ url: String, apiKey: String? = configuredKey, body: JSON? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let apiKey { request.headers.add(name: "api_key", value: apiKey) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try body.serialized()))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        let bytes = Array(buffer.readableBytesView)
        return Answer(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            json: bytes.isEmpty ? nil : try? JSON.parse(bytes))
    }

    @Test func servesTheAPIAndControlEndpointsOverRealHTTP() async throws {
        try await withServer { sandbox, base in
            let empty = try await call(.GET, base + "/v1/api-key")
            #expect(empty.status == 200)
            #expect(empty.json == ["status": true, "message": "Getting API Keys success", "api_keys": []])
            #expect(empty.headers.contains { $0.0.lowercased() == "content-type" && $0.1 == "application/json" })

            #expect(try await call(.GET, base + "/v1/api-key", apiKey: nil).status == 401)

            let generated = try await call(.POST, base + "/v1/api-key/generate", body: ["name": "over http"])
            #expect(generated.status == 200)
            let id = try #require(generated.json?["api_key"]?["id"]?.intValue)
            let secret = try #require(generated.json?["api_key"]?["key"]?.stringValue)
            #expect(try await call(.GET, base + "/v1/api-key", apiKey: secret).status == 200)

            let updated = try await call(.PUT, base + "/v1/api-key/\(id)", body: ["name": "renamed"])
            #expect(updated.json?["api_key"]?["name"] == "renamed")

            // A status fault with Retry-After, injected through the control endpoint.
            let injected = try await call(
                .POST, base + "/_sandbox/faults", apiKey: nil,
                body: ["faults": [["method": "GET", "path": "/api-key", "status": 429, "retry_after": 2]]])
            #expect(injected.status == 200)
            #expect(injected.json?["injected"] == 1)
            let limited = try await call(.GET, base + "/v1/api-key")
            #expect(limited.status == 429)
            #expect(limited.headers.contains { $0.0.lowercased() == "retry-after" && $0.1 == "2" })

            let badSpec = try await call(.POST, base + "/_sandbox/faults", apiKey: nil, body: ["drop": "yes"])
            #expect(badSpec.status == 400)

            #expect(try await call(.DELETE, base + "/v1/api-key/\(id)").status == 200)
            #expect(try await call(.GET, base + "/nowhere").status == 404)

            let stats = try await call(.GET, base + "/_sandbox/stats", apiKey: nil)
            #expect(
                stats.json?["requests"]
                    == ["GET /api-key": 4, "POST /api-key/generate": 1, "PUT /api-key/{id}": 1, "DELETE /api-key/{id}": 1])

            #expect(try await call(.POST, base + "/_sandbox/reset", apiKey: nil).status == 200)
            #expect(await sandbox.stats() == SandboxStats())
        }
    }

    @Test func dropFaultClosesTheConnectionWithoutAResponse() async throws {
        try await withServer { sandbox, base in
            try await sandbox.injectFaults(json: ["path": "/api-key/generate", "drop": true, "apply": true])
            await #expect(throws: (any Error).self) {
                _ = try await call(.POST, base + "/v1/api-key/generate", body: ["name": "created before the drop"])
            }
            // The server carries on, and the dropped request's key exists ("timed out but created").
            let listed = try await call(.GET, base + "/v1/api-key")
            #expect(listed.status == 200)
            #expect(listed.json?["api_keys"]?.arrayValue?.map { $0["name"] } == ["created before the drop"])
        }
    }
}
