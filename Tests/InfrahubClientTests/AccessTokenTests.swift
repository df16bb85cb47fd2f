import Credentials
import Foundation
import HTTPTypes
import InfrahubWire
import Testing

@testable import InfrahubClient

/// The access token: which call carries it, in which header, and that it never leaves its
/// origin or shows in an error; and what a generate refused with only a key says.
@Suite("Access tokens")
struct AccessTokenTests {
    private let token = "eyJhbGciOiJIUzI1NiJ9.access-token-0123456789.SIGNATURE"

    @Test func generateSendsTheTokenAndOtherCallsTheKey() async throws {
        let secret = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
        try await withServer([
            .respond(status: 200, body: Bodies.generated(secret: secret)),
            .respond(status: 200, body: Bodies.list),
            .respond(status: 200, body: Bodies.updated),
            .respond(status: 200, body: Bodies.deleted),
        ]) { server in
            try await withClient(server.baseURL, accessToken: token) { client in
                _ = try await client.generateKey(name: "new", description: nil)
                _ = try await client.listKeys()
                _ = try await client.updateKey(id: 12, name: "renamed", description: nil)
                try await client.deleteKey(id: 12)
            }
            let requests = server.requests
            #expect(requests.count == 4)
            guard requests.count == 4 else { return }
            #expect(requests[0].values("Authorization") == ["Bearer \(token)"])
            #expect(requests[0].header("api_key") == nil, "one credential per request")
            for request in requests.dropFirst() {
                #expect(request.values("api_key") == [testAPIKey])
                #expect(request.header("Authorization") == nil, "the token goes only where it is needed")
            }
        }
    }

    @Test func aTokenAloneServesEveryCall() async throws {
        try await withServer([.respond(status: 200, body: Bodies.list)]) { server in
            _ = try await withClient(server.baseURL, credential: nil, accessToken: token) { try await $0.listKeys() }
            let request = try #require(server.requests.first)
            #expect(request.values("Authorization") == ["Bearer \(token)"])
            #expect(request.header("api_key") == nil)
        }
    }

    @Test func withoutATokenGenerateSendsTheKeyAsEverySDKDoes() async throws {
        try await withServer([.respond(status: 200, body: Bodies.generated(secret: "s-0123456789"))]) { server in
            _ = try await withClient(server.baseURL) { try await $0.generateKey(name: "new", description: nil) }
            let request = try #require(server.requests.first)
            #expect(request.values("api_key") == [testAPIKey])
            #expect(request.header("Authorization") == nil)
        }
    }

    @Test func crossOriginRedirectDropsTheToken() async throws {
        try await withServer([], fallback: .respond(status: 200, body: Bodies.generated(secret: "s-0123456789"))) { elsewhere in
            let target = "http://127.0.0.1:\(elsewhere.port)/v1/api-key/generate"
            try await withServer([.respond(status: 307, headers: [("Location", target)])]) { origin in
                _ = try await withClient(origin.baseURL, accessToken: token) { try await $0.generateKey(name: "n", description: nil) }
                #expect(origin.requests.first?.header("Authorization") == "Bearer \(token)")
                let followed = try #require(elsewhere.requests.first)
                #expect(followed.header("Authorization") == nil)
                #expect(followed.header("api_key") == nil)
            }
        }
    }

    @Test func theTokenFieldIsMarkedSensitiveSoNoDescriptionShowsIt() {
        let headers = InfrahubAPIClient.headers(for: .generate, credential: .accessToken, secret: SecretString(token), version: "1")
        #expect(headers[fields: .authorization].map(\.indexingStrategy) == [.disallow])
        #expect(headers[.authorization] == "Bearer \(token)")
        #expect(headers[.apiKey] == nil)
        let request = InfrahubRequest(
            head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api-key/generate", headerFields: headers))
        #expect(!"\(request)".contains("access-token-0123456789"))
        #expect(!String(reflecting: request).contains("access-token-0123456789"))
    }

    @Test func aGenerateRefusedWithOnlyAKeySaysSoAndHowToConfigureAToken() async throws {
        for status in [401, 403] {
            let body = Bodies.error("Unauthorized: an access token is needed", reason: status == 401 ? "unauthorized" : "forbidden")
            try await withServer([.respond(status: status, body: body)]) { server in
                let error = await captureError {
                    _ = try await withClient(server.baseURL) { try await $0.generateKey(name: "n", description: nil) }
                }
                let message = error?.message ?? ""
                #expect(message.contains("Only an API key is configured"), "\(message)")
                #expect(message.contains("HYPERSTACK_ACCESS_TOKEN"))
                #expect(message.contains("--access-token-file"))
                #expect(message.contains("initializationOptions.accessToken"))
                #expect(error?.httpStatus == status)
                #expect(error?.kind == (status == 401 ? .unauthorized : .forbidden))
            }
        }
    }

    @Test func otherRefusalsDoNotMentionTheToken() async throws {
        // With a token configured, generate used it: a 401 is about the token.
        try await withServer([.respond(status: 401, body: Bodies.error("bad token", reason: "unauthorized"))]) { server in
            let error = await captureError {
                _ = try await withClient(server.baseURL, accessToken: token) { try await $0.generateKey(name: "n", description: nil) }
            }
            let message = error?.message ?? ""
            #expect(message.contains("rejected the access token"), "\(message)")
            #expect(!message.contains("Only an API key"))
        }
        // A list refused with the key is about the key.
        try await withServer([.respond(status: 401, body: Bodies.error("bad key", reason: "unauthorized"))]) { server in
            let error = await captureError { _ = try await withClient(server.baseURL) { try await $0.listKeys() } }
            let message = error?.message ?? ""
            #expect(message.contains("rejected the API key"), "\(message)")
            #expect(!message.contains("access token"))
        }
    }

    @Test func anUpstreamEchoOfTheTokenIsRedacted() async throws {
        let body = Bodies.error("token \(token.uppercased()) is over quota", reason: "forbidden")
        try await withServer([.respond(status: 403, body: body)]) { server in
            let error = await captureError {
                _ = try await withClient(server.baseURL, accessToken: token) { try await $0.generateKey(name: "n", description: nil) }
            }
            let text = [error?.message, error?.upstreamMessage, error?.reason].compactMap { $0 }.joined(separator: "\n")
            #expect(!SecretRedactor(secret: SecretString(token)).finds(in: text), "\(text)")
            #expect(text.contains("is over quota"))
        }
    }

    @Test func aRedactorForBothCredentialsTakesOutEach() {
        let key = "hsk-0123456789abcdef"
        let redactor = SecretRedactor(secrets: [SecretString(key), SecretString(token)])
        let redacted = redactor.redact("key \(key) token \(Data(token.utf8).base64EncodedString())")
        #expect(!redacted.contains("0123456789abcdef"))
        #expect(!SecretRedactor(secret: SecretString(token)).finds(in: redacted), "\(redacted)")
        #expect(redacted.hasPrefix("key <redacted> token "))
    }
}
