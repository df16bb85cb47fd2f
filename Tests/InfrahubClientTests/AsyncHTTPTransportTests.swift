import HTTPTypes
import InfrahubClient
import InfrahubWire
import Testing

/// The production transport against real local servers.
@Suite("AsyncHTTPClient transport")
struct AsyncHTTPTransportTests {
    static func get(_ path: String) -> InfrahubRequest {
        InfrahubRequest(head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: path))
    }

    @Test(arguments: ["", "infrahub-api.nexgencloud.com/v1", "ftp://example.com/v1", "https:///v1", "https://x/v1?y=1"])
    func rejectsUnusableBaseURLs(baseURL: String) {
        #expect(throws: InvalidBaseURL.self) { try AsyncHTTPTransport.validatedBaseURL(baseURL) }
    }

    @Test func appendsPathsToTheBasePath() async throws {
        try await withServer([], fallback: .respond(status: 204)) { server in
            let transport = try makeTransport(server.baseURL + "/")
            #expect(try AsyncHTTPTransport.validatedBaseURL(server.baseURL + "/").string == server.baseURL)
            let response = try await transport.send(Self.get("/api-key"), timeout: .seconds(5))
            let bare = try await transport.send(Self.get("api-key/3"), timeout: .seconds(5))
            try await transport.shutdown()
            #expect(response.head.status == 204)
            #expect(bare.head.status == 204)
            #expect(server.requests.map(\.uri) == ["/v1/api-key", "/v1/api-key/3"])
        }
    }

    @Test func returnsErrorStatusesAndHeadersAsResponses() async throws {
        try await withServer([.respond(status: 503, headers: [("Retry-After", "7")], body: "down")]) { server in
            let transport = try makeTransport(server.baseURL)
            let response = try await transport.send(Self.get("/api-key"), timeout: .seconds(5))
            try await transport.shutdown()
            #expect(response.head.status == 503)
            #expect(response.head.headerFields[.retryAfter] == "7")
            #expect(response.body == Array("down".utf8))
        }
    }

    @Test func classifiesFailures() async throws {
        let closed = try await ScriptedHTTPServer.start([])
        let closedURL = closed.baseURL
        try await closed.stop()
        try await withServer([.hang, .close]) { server in
            let refused = try makeTransport(closedURL)
            let live = try makeTransport(server.baseURL)
            let request = Self.get("/api-key")
            var failures: [TransportFailure] = []
            for (transport, timeout) in [(refused, Duration.seconds(5)), (live, .milliseconds(300)), (live, .seconds(5))] {
                do throws(TransportFailure) {
                    _ = try await transport.send(request, timeout: timeout)
                } catch {
                    failures.append(error)
                }
            }
            try await refused.shutdown()
            try await live.shutdown()
            #expect(failures.count == 3)
            guard failures.count == 3 else { return }
            guard case .connectionRefused = failures[0] else { Issue.record("expected connectionRefused, got \(failures[0])"); return }
            guard case .timedOut = failures[1] else { Issue.record("expected timedOut, got \(failures[1])"); return }
            guard case .connectionLost = failures[2] else { Issue.record("expected connectionLost, got \(failures[2])"); return }
        }
    }

    @Test func crossOriginRedirectDropsTheKey() async throws {
        try await withServer([], fallback: .respond(status: 200, body: Bodies.list)) { elsewhere in
            let target = "http://127.0.0.1:\(elsewhere.port)/v1/api-key"
            try await withServer([.respond(status: 307, headers: [("Location", target)])]) { origin in
                let records = try await withClient(origin.baseURL) { try await $0.listKeys() }
                #expect(records.count == 1)
                #expect(origin.requests.first?.header("api_key") == testAPIKey)
                let followed = try #require(elsewhere.requests.first)
                #expect(followed.header("api_key") == nil)
                #expect(followed.header("Accept") == "application/json")
            }
        }
    }

    @Test func sameOriginRedirectKeepsTheKey() async throws {
        try await withServer([
            .respond(status: 308, headers: [("Location", "/v1/api-key/12?moved=1")]),
            .respond(status: 200, body: Bodies.updated),
        ]) { server in
            _ = try await withClient(server.baseURL) { try await $0.updateKey(id: 12, name: "renamed", description: "d") }
            #expect(server.requests.map(\.uri) == ["/v1/api-key/12", "/v1/api-key/12?moved=1"])
            #expect(server.requests.allSatisfy { $0.header("api_key") == testAPIKey && $0.method == "PUT" })
            #expect(server.requests.last?.bodyText == #"{"name":"renamed","description":"d"}"#)
        }
    }

    @Test func redirectLoopsEnd() async throws {
        try await withServer([], fallback: .respond(status: 302, headers: [("Location", "/v1/api-key")])) { server in
            let transport = try makeTransport(server.baseURL)
            let response = try await transport.send(Self.get("/api-key"), timeout: .seconds(5))
            try await transport.shutdown()
            #expect(response.head.status == 302)
            #expect(server.hits == 6)
        }
    }
}
