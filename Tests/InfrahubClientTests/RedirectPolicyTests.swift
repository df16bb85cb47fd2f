import HTTPTypes
import InfrahubWire
import Testing

@testable import InfrahubClient

@Suite("Redirect policy")
struct RedirectPolicyTests {
    let headers: HTTPFields = [.apiKey: "k", .accept: "application/json", .contentType: "application/json"]

    @Test func sameOriginKeepsEverything() throws {
        let step = try #require(
            RedirectPolicy.follow(
                status: 307, location: "/v2/api-key", from: "https://api.example.com/v1/api-key", method: .put,
                headers: headers, body: [1]))
        #expect(step.url == "https://api.example.com/v2/api-key")
        #expect(step.method == .put)
        #expect(step.body == [1])
        #expect(step.headers[.apiKey] == "k")
        #expect(!step.strippedCredentials)
    }

    @Test func otherHostLosesTheKey() throws {
        let step = try #require(
            RedirectPolicy.follow(
                status: 308, location: "https://evil.example.net/collect", from: "https://api.example.com/v1/api-key",
                method: .get, headers: headers, body: nil))
        #expect(step.headers[.apiKey] == nil)
        #expect(step.headers[.accept] == "application/json")
        #expect(step.strippedCredentials)
    }

    @Test func portOrSchemeChangeIsAnotherOrigin() throws {
        let otherPort = try #require(
            RedirectPolicy.follow(
                status: 302, location: "http://127.0.0.1:9/x", from: "http://127.0.0.1:8080/v1/api-key", method: .get,
                headers: headers, body: nil))
        #expect(otherPort.headers[.apiKey] == nil)
        let downgrade = try #require(
            RedirectPolicy.follow(
                status: 301, location: "http://api.example.com/v1/api-key", from: "https://api.example.com/v1/api-key",
                method: .get, headers: headers, body: nil))
        #expect(downgrade.headers[.apiKey] == nil)
        let explicitDefaultPort = try #require(
            RedirectPolicy.follow(
                status: 301, location: "https://API.example.com:443/v1/x", from: "https://api.example.com/v1/api-key",
                method: .get, headers: headers, body: nil))
        #expect(explicitDefaultPort.headers[.apiKey] == "k")
    }

    @Test func seeOtherAndPostRedirectsBecomeGet() throws {
        let step = try #require(
            RedirectPolicy.follow(
                status: 303, location: "/v1/api-key", from: "https://api.example.com/v1/api-key/generate",
                method: .post, headers: headers, body: [1, 2]))
        #expect(step.method == .get)
        #expect(step.body == nil)
        #expect(step.headers[.contentType] == nil)
        #expect(step.headers[.apiKey] == "k")
    }

    @Test func unusableRedirectsAreNotFollowed() {
        let from = "https://api.example.com/v1/api-key"
        #expect(RedirectPolicy.follow(status: 200, location: "/x", from: from, method: .get, headers: headers, body: nil) == nil)
        #expect(RedirectPolicy.follow(status: 302, location: nil, from: from, method: .get, headers: headers, body: nil) == nil)
        #expect(
            RedirectPolicy.follow(status: 302, location: "ftp://x/y", from: from, method: .get, headers: headers, body: nil)
                == nil)
        #expect(
            RedirectPolicy.follow(status: 304, location: "/x", from: from, method: .get, headers: headers, body: nil) == nil)
    }
}
