import Testing

@testable import InfrahubClient

@Suite("Redirect policy")
struct RedirectPolicyTests {
    let headers: HTTPHeaderList = [("api_key", "k"), ("Accept", "application/json"), ("Content-Type", "application/json")]

    @Test func sameOriginKeepsEverything() throws {
        let step = try #require(
            RedirectPolicy.follow(
                status: 307, location: "/v2/api-key", from: "https://api.example.com/v1/api-key", method: "PUT",
                headers: headers, body: [1]))
        #expect(step.url == "https://api.example.com/v2/api-key")
        #expect(step.method == "PUT")
        #expect(step.body == [1])
        #expect(step.headers["api_key"] == "k")
        #expect(!step.strippedCredentials)
    }

    @Test func otherHostLosesTheKey() throws {
        let step = try #require(
            RedirectPolicy.follow(
                status: 308, location: "https://evil.example.net/collect", from: "https://api.example.com/v1/api-key",
                method: "GET", headers: headers, body: nil))
        #expect(step.headers["api_key"] == nil)
        #expect(step.headers["Accept"] == "application/json")
        #expect(step.strippedCredentials)
    }

    @Test func portOrSchemeChangeIsAnotherOrigin() throws {
        let otherPort = try #require(
            RedirectPolicy.follow(
                status: 302, location: "http://127.0.0.1:9/x", from: "http://127.0.0.1:8080/v1/api-key", method: "GET",
                headers: headers, body: nil))
        #expect(otherPort.headers["api_key"] == nil)
        let downgrade = try #require(
            RedirectPolicy.follow(
                status: 301, location: "http://api.example.com/v1/api-key", from: "https://api.example.com/v1/api-key",
                method: "GET", headers: headers, body: nil))
        #expect(downgrade.headers["api_key"] == nil)
        let explicitDefaultPort = try #require(
            RedirectPolicy.follow(
                status: 301, location: "https://API.example.com:443/v1/x", from: "https://api.example.com/v1/api-key",
                method: "GET", headers: headers, body: nil))
        #expect(explicitDefaultPort.headers["api_key"] == "k")
    }

    @Test func seeOtherAndPostRedirectsBecomeGet() throws {
        let step = try #require(
            RedirectPolicy.follow(
                status: 303, location: "/v1/api-key", from: "https://api.example.com/v1/api-key/generate",
                method: "POST", headers: headers, body: [1, 2]))
        #expect(step.method == "GET")
        #expect(step.body == nil)
        #expect(step.headers["Content-Type"] == nil)
        #expect(step.headers["api_key"] == "k")
    }

    @Test func unusableRedirectsAreNotFollowed() {
        let from = "https://api.example.com/v1/api-key"
        #expect(RedirectPolicy.follow(status: 200, location: "/x", from: from, method: "GET", headers: headers, body: nil) == nil)
        #expect(RedirectPolicy.follow(status: 302, location: nil, from: from, method: "GET", headers: headers, body: nil) == nil)
        #expect(
            RedirectPolicy.follow(status: 302, location: "ftp://x/y", from: from, method: "GET", headers: headers, body: nil)
                == nil)
        #expect(
            RedirectPolicy.follow(status: 304, location: "/x", from: from, method: "GET", headers: headers, body: nil) == nil)
    }
}
