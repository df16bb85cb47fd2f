import InfrahubClient
import Testing

/// How upstream's error answers become `InfrahubError`s, over real HTTP.
@Suite("Client error mapping")
struct InfrahubAPIClientErrorTests {
    @Test(arguments: [
        (400, InfrahubError.Kind.rejected, false),
        (401, .unauthorized, false),
        (403, .forbidden, false),
        (404, .notFound, false),
        (409, .conflict, false),
        (422, .rejected, false),
        (429, .rateLimited, true),
        (500, .serverError, true),
        (503, .serverError, true),
    ])
    func statusMapsToKind(status: Int, kind: InfrahubError.Kind, retryable: Bool) async throws {
        let body = Bodies.error("upstream says \(status)", reason: "reason_\(status)")
        try await withServer([], fallback: .respond(status: status, body: body)) { server in
            let error = try await withClient(server.baseURL, maxAttempts: 1) { client in
                await captureError { try await client.deleteKey(id: 5) }
            }
            let failure = try #require(error)
            #expect(failure.kind == kind)
            #expect(failure.httpStatus == status)
            #expect(failure.retryable == retryable)
            #expect(failure.message.hasPrefix("Deleting API key 5 failed: "))
            if status == 401 {
                // A 401's text is never quoted: it may echo the credential (issue 10, item 1).
                #expect(failure.reason == nil)
                #expect(failure.upstreamMessage != "upstream says \(status)")
                #expect(!failure.message.contains("upstream says"))
            } else {
                #expect(failure.reason == "reason_\(status)")
                #expect(failure.upstreamMessage == "upstream says \(status)")
                #expect(failure.message.contains("upstream says \(status)"))
            }
        }
    }

    @Test func unauthorizedSaysHowToFixTheKey() async throws {
        try await withServer([.respond(status: 401, body: Bodies.error("Unauthorized", reason: "unauthorized"))]) {
            server in
            let error = try await withClient(server.baseURL) { client in
                await captureError { _ = try await client.listKeys() }
            }
            #expect(error?.message.contains("HYPERSTACK_API_KEY") == true)
            #expect(server.hits == 1)
        }
    }

    @Test func bareMessageBody() async throws {
        try await withServer([], fallback: .respond(status: 500, body: #"{"message": "Internal Server Error"}"#)) {
            server in
            let error = try await withClient(server.baseURL, maxAttempts: 1) { client in
                await captureError { _ = try await client.listKeys() }
            }
            #expect(error?.kind == .serverError)
            #expect(error?.upstreamMessage == "Internal Server Error")
            #expect(error?.reason == nil)
        }
    }

    @Test func validationErrorsAreFoldedIntoTheUpstreamMessage() async throws {
        let body = #"{"errors": {"name": "String is too long"}, "message": "Input payload validation failed"}"#
        try await withServer([.respond(status: 400, body: body)]) { server in
            let error = try await withClient(server.baseURL) { client in
                await captureError { _ = try await client.generateKey(name: String(repeating: "n", count: 300), description: nil) }
            }
            #expect(error?.kind == .rejected)
            #expect(error?.upstreamMessage == "Input payload validation failed (name: String is too long)")
            #expect(error?.message.contains("name: String is too long") == true)
        }
    }

    @Test func nonJSONErrorBodies() async throws {
        try await withServer([
            .respond(status: 502, headers: [("Content-Type", "text/html")], body: "<html><h1>Bad Gateway</h1></html>"),
            .respond(status: 418, body: "short and stout"),
            .respond(status: 404, body: ""),
        ]) { server in
            let errors = try await withClient(server.baseURL, maxAttempts: 1) { client in
                [
                    await captureError { _ = try await client.listKeys() },
                    await captureError { _ = try await client.listKeys() },
                    await captureError { _ = try await client.updateKey(id: 9, name: "x", description: nil) },
                ]
            }
            #expect(errors[0]?.kind == .serverError)
            #expect(errors[0]?.upstreamMessage == nil)
            #expect(errors[1]?.kind == .rejected)
            #expect(errors[1]?.upstreamMessage == "short and stout")
            #expect(errors[2]?.kind == .notFound)
            #expect(errors[2]?.message.contains("no API key with id 9") == true)
        }
    }

    @Test func echoedKeyIsRedactedFromErrors() async throws {
        let body = Bodies.error("Key \(testAPIKey) is invalid", reason: "unauthorized")
        try await withServer([.respond(status: 401, body: body)]) { server in
            let error = try await withClient(server.baseURL) { client in
                await captureError { _ = try await client.listKeys() }
            }
            let failure = try #require(error)
            #expect(!failure.message.contains(testAPIKey))
            #expect(failure.upstreamMessage?.contains(testAPIKey) == false)
            #expect(failure.upstreamMessage?.contains("<redacted>") == true)
        }
    }

    @Test func unreachableHostIsUnreachable() async throws {
        let closed = try await ScriptedHTTPServer.start([])
        let baseURL = closed.baseURL
        try await closed.stop()
        let error = try await withClient(baseURL, maxAttempts: 2) { client in
            await captureError { _ = try await client.listKeys() }
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.retryable == true)
        #expect(error?.message.contains("could not connect") == true)
        #expect(error?.message.contains("after 2 tries") == true)
    }
}
