import HTTPTypes
import HyperstackSandbox
import InfrahubWire
import JanssonJSON
import Testing

@Suite struct AuthenticationTests {
    @Test func missingHeaderIsUnauthorized() async throws {
        let harness = try SandboxHarness()
        let response = try await harness.send("GET", "/api-key", apiKey: nil)
        #expect(response.status == 401)
        #expect(try response.json()["status"] == false)
        #expect(response.errorReason == "unauthorized")
        #expect(try response.json()["message"]?.stringValue?.isEmpty == false)
    }

    @Test func emptyHeaderIsUnauthorized() async throws {
        let harness = try SandboxHarness()
        #expect(try await harness.send("GET", "/api-key", apiKey: "").status == 401)
    }

    @Test func wrongKeyIsUnauthorized() async throws {
        let harness = try SandboxHarness()
        let response = try await harness.send("POST", "/api-key/generate", body: ["name": "x"], apiKey: "not-a-key")
        #expect(response.status == 401)
        #expect(response.errorReason == "unauthorized")
        // Nothing was created behind the 401.
        #expect(try await harness.list().isEmpty)
    }

    @Test func configuredKeyIsAccepted() async throws {
        let harness = try SandboxHarness()
        let response = try await harness.send("GET", "/api-key")
        #expect(response.status == 200)
        #expect(response.head.headerFields[.contentType] == "application/json")
        #expect(try response.json() == ["status": true, "message": "Getting API Keys success", "api_keys": []])
    }

    @Test func generatedSecretIsAcceptedUntilItsKeyIsDeleted() async throws {
        let harness = try SandboxHarness()
        let key = try await harness.generate("ci")
        let secret = try #require(key["key"]?.stringValue)
        let id = try #require(key["id"]?.intValue)

        #expect(try await harness.send("GET", "/api-key", apiKey: secret).status == 200)
        #expect(try await harness.send("DELETE", "/api-key/\(id)").status == 200)
        #expect(try await harness.send("GET", "/api-key", apiKey: secret).status == 401)
    }

    @Test func maskedKeyIsNotASecret() async throws {
        let harness = try SandboxHarness()
        _ = try await harness.generate("ci")
        let masked = try #require(try await harness.list().first?["key"]?.stringValue)
        #expect(try await harness.send("GET", "/api-key", apiKey: masked).status == 401)
    }

    @Test func headerNameIsCaseInsensitive() async throws {
        let harness = try SandboxHarness()
        let name = try #require(HTTPField.Name("API_KEY"))
        let request = InfrahubRequest(
            head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/api-key", headerFields: [name: configuredKey]))
        #expect(try await harness.transport.send(request, timeout: .seconds(5)).status == 200)
    }
}
