import Credentials
import JanssonJSON
import Testing

@testable import InfrahubClient

/// What the client puts on the wire and how it reads the answers, over real HTTP.
@Suite("Client requests and decoding")
struct InfrahubAPIClientWireTests {
    @Test func listSendsTheHeaderSetAndDecodes() async throws {
        try await withServer([.respond(status: 200, body: Bodies.list)]) { server in
            let records = try await withClient(server.baseURL) { try await $0.listKeys() }
            #expect(
                records == [
                    APIKeyRecord(
                        id: 7, name: "ci", description: "for CI", createdAt: "2026-05-06T15:18:42Z",
                        maskedKey: "********-****-****-****-********be9a")
                ])
            let request = try #require(server.requests.first)
            #expect(request.method == "GET")
            #expect(request.uri == "/v1/api-key")
            #expect(request.values("api_key") == [testAPIKey])
            #expect(request.header("Accept") == "application/json")
            #expect(request.header("User-Agent")?.hasPrefix("hyperstack-rpc/1.2.3 (Swift; ") == true)
            #expect(request.header("Hyperstack-Client") == "hyperstack-rpc/1.2.3")
            #expect(request.header("Content-Type") == nil)
            #expect(request.header("Authorization") == nil)
            #expect(request.body.isEmpty)
        }
    }

    @Test func generatePostsNameWithoutNullDescription() async throws {
        let secret = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
        try await withServer([.respond(status: 200, body: Bodies.generated(secret: secret))]) { server in
            let generated = try await withClient(server.baseURL) { try await $0.generateKey(name: "new", description: nil) }
            #expect(generated.secret.revealed == secret)
            #expect(
                generated.record
                    == APIKeyRecord(
                        id: 12, name: "new", createdAt: "2026-05-06T15:18:42Z",
                        maskedKey: "********-****-****-****-********cb6d"))
            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.uri == "/v1/api-key/generate")
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.values("api_key") == [testAPIKey])
            #expect(try JSON.parse(request.body) == ["name": "new"])
        }
    }

    @Test func updatePutsNameAndDescription() async throws {
        try await withServer([.respond(status: 200, body: Bodies.updated)]) { server in
            let record = try await withClient(server.baseURL) {
                try await $0.updateKey(id: 12, name: "renamed", description: "d")
            }
            #expect(
                record
                    == APIKeyRecord(
                        id: 12, name: "renamed", description: "d", createdAt: "2026-05-06T13:18:42Z",
                        maskedKey: "********-****-****-****-********be9a"))
            let request = try #require(server.requests.first)
            #expect(request.method == "PUT")
            #expect(request.uri == "/v1/api-key/12")
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.bodyText == #"{"name":"renamed","description":"d"}"#)
        }
    }

    @Test func deleteSendsNoBody() async throws {
        try await withServer([.respond(status: 200, body: Bodies.deleted)]) { server in
            try await withClient(server.baseURL) { try await $0.deleteKey(id: 44) }
            let request = try #require(server.requests.first)
            #expect(request.method == "DELETE")
            #expect(request.uri == "/v1/api-key/44")
            #expect(request.header("Content-Type") == nil)
            #expect(request.body.isEmpty)
        }
    }

    @Test func noCredentialFailsWithoutTouchingTheNetwork() async throws {
        try await withServer([]) { server in
            let error = try await withClient(server.baseURL, credential: nil) { client in
                #expect(!client.hasCredential)
                return await captureError { _ = try await client.listKeys() }
            }
            let failure = try #require(error)
            #expect(failure.kind == .unauthorized)
            #expect(!failure.retryable)
            for hint in ["HYPERSTACK_API_KEY", "--api-key-file", "initializationOptions.apiKey", "--sandbox"] {
                #expect(failure.message.contains(hint))
            }
            #expect(server.hits == 0)
        }
    }

    @Test func blankCredentialCountsAsNone() async throws {
        try await withServer([]) { server in
            try await withClient(server.baseURL, credential: "  ") { client in
                #expect(!client.hasCredential)
                client.setCredentials(UpstreamCredentials(apiKey: SecretString("real")))
                #expect(client.hasCredential)
                client.setCredentials(.none)
                #expect(!client.hasCredential)
            }
        }
    }

    @Test(arguments: [
        (200, "not json at all"),
        (200, #"{"status": true, "api_keys": [{"name": "no id"}]}"#),
        (200, #"{"status": true}"#),
        (302, ""),
    ])
    func unusableAnswersAreMalformed(status: Int, body: String) async throws {
        try await withServer([.respond(status: status, body: body)]) { server in
            let error = try await withClient(server.baseURL) { client in
                await captureError { _ = try await client.listKeys() }
            }
            #expect(error?.kind == .malformedResponse)
            #expect(error?.httpStatus == status)
        }
    }

    @Test func generateAnswerWithoutSecretIsMalformedAndSaysTheKeyMayExist() async throws {
        let body = #"{"status": true, "api_key": {"id": 3, "name": "x"}}"#
        try await withServer([.respond(status: 200, body: body)]) { server in
            let error = try await withClient(server.baseURL) { client in
                await captureError { _ = try await client.generateKey(name: "x", description: nil) }
            }
            #expect(error?.kind == .malformedResponse)
            #expect(error?.message.contains("list keys") == true)
        }
    }

    @Test func successStatusWithStatusFalseIsRejected() async throws {
        try await withServer([.respond(status: 200, body: Bodies.error("Name already used", reason: "bad_request"))]) {
            server in
            let error = try await withClient(server.baseURL) { client in
                await captureError { _ = try await client.updateKey(id: 1, name: "x", description: nil) }
            }
            #expect(error?.kind == .rejected)
            #expect(error?.upstreamMessage == "Name already used")
            #expect(error?.reason == "bad_request")
        }
    }
}
