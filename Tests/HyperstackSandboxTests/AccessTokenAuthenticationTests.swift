import HTTPTypes
import HyperstackSandbox
import InfrahubWire
import JanssonJSON
import Testing

/// `Authorization: Bearer` (the OpenAPI document's `accessToken` scheme), and the strict reading
/// in which generate accepts nothing else.
@Suite struct AccessTokenAuthenticationTests {
    private let token = "sandbox-access-token-0123456789"

    @Test func aConfiguredTokenIsAcceptedOnEveryRoute() async throws {
        let harness = try SandboxHarness(accessTokens: [token])
        let bearer = "Bearer \(token)"
        let generated = try await harness.send("POST", "/api-key/generate", body: ["name": "ci"], apiKey: nil, authorization: bearer)
        #expect(generated.status == 200)
        let id = try #require(try generated.json()["api_key"]?["id"]?.intValue)
        #expect(try await harness.send("GET", "/api-key", apiKey: nil, authorization: bearer).status == 200)
        #expect(try await harness.send("PUT", "/api-key/\(id)", body: ["name": "ci-2"], apiKey: nil, authorization: bearer).status == 200)
        #expect(try await harness.send("DELETE", "/api-key/\(id)", apiKey: nil, authorization: "bearer \(token)").status == 200)
    }

    @Test func aWrongOrMalformedTokenIsUnauthorized() async throws {
        let harness = try SandboxHarness(accessTokens: [token])
        for authorization in ["Bearer wrong-token", token, "Basic \(token)", "Bearer ", "Bearer"] {
            let response = try await harness.send("GET", "/api-key", apiKey: nil, authorization: authorization)
            #expect(response.status == 401, "\(authorization)")
            #expect(response.errorReason == "unauthorized")
            #expect(try response.json()["message"]?.stringValue?.contains(token) == false)
        }
    }

    @Test func strictGenerateRefusesAKeyAloneWith401() async throws {
        let harness = try SandboxHarness(accessTokens: [token], generateRequiresAccessToken: true)
        let refused = try await harness.send("POST", "/api-key/generate", body: ["name": "ci"])
        #expect(refused.status == 401)
        #expect(refused.errorReason == "unauthorized")
        #expect(try refused.json()["status"] == false)
        #expect(try refused.json()["message"]?.stringValue?.contains("access token") == true)
        #expect(try await harness.list().isEmpty, "nothing was created behind the 401")
        let wrongToken = try await harness.send(
            "POST", "/api-key/generate", body: ["name": "ci"], authorization: "Bearer not-the-token")
        #expect(wrongToken.status == 401)
        let accepted = try await harness.send(
            "POST", "/api-key/generate", body: ["name": "ci"], apiKey: nil, authorization: "Bearer \(token)")
        #expect(accepted.status == 200)
        // The other routes still take the key, as the document allows either scheme there.
        #expect(try await harness.list().count == 1)
    }

    @Test func withoutTheStrictFlagGenerateTakesEither() async throws {
        let harness = try SandboxHarness(accessTokens: [token])
        #expect(try await harness.send("POST", "/api-key/generate", body: ["name": "a"]).status == 200)
        #expect(
            try await harness.send("POST", "/api-key/generate", body: ["name": "b"], apiKey: nil, authorization: "Bearer \(token)")
                .status == 200)
    }
}
