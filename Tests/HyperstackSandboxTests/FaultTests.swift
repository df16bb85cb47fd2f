import HTTPTypes
import InfrahubWire
import JanssonJSON
import Testing

@testable import HyperstackSandbox

@Suite struct FaultTests {
    @Test func statusFaultAnswersWithTheDocumentedErrorBodyAndSkipsTheOperation() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["method": "POST", "path": "/api-key/generate", "status": 503])
        let response = try await harness.send("POST", "/api-key/generate", body: ["name": "a"])
        #expect(response.status == 503)
        #expect(try response.json()["status"] == false)
        #expect(response.errorReason == "server_error")
        #expect(try await harness.list().isEmpty)
        // Used up: the next generate is real.
        _ = try await harness.generate("a")
    }

    @Test func statusFaultWithJSONBodyAndRetryAfter() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["status": 429, "retry_after": 7, "body": ["message": "slow down"]])
        let response = try await harness.send("GET", "/api-key")
        #expect(response.status == 429)
        #expect(response.head.headerFields[.retryAfter] == "7")
        #expect(try response.json() == ["message": "slow down"])
    }

    @Test func retryAfterAloneMeans429() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["retry_after": "Wed, 21 Oct 2026 07:28:00 GMT"])
        let response = try await harness.send("GET", "/api-key")
        #expect(response.status == 429)
        #expect(response.head.headerFields[.retryAfter] == "Wed, 21 Oct 2026 07:28:00 GMT")
        #expect(response.errorReason == "too_many_requests")
    }

    @Test func rawTextBody() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["status": 500, "raw_body": "Internal Server Error"])
        let response = try await harness.send("GET", "/api-key")
        #expect(response.status == 500)
        #expect(response.text == "Internal Server Error")
        #expect(response.head.headerFields[.contentType] == "text/plain")
    }

    @Test func malformedBodyIsA200ThatIsNotJSON() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["path": "/api-key", "malformed": true])
        let response = try await harness.send("GET", "/api-key")
        #expect(response.status == 200)
        #expect(throws: (any Error).self) { try response.json() }
    }

    @Test func faultsMatchMethodAndPathAndCountDown() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["method": "delete", "path": "/v1/api-key/", "status": 502, "count": 2])
        let id = try #require(try await harness.generate("a")["id"]?.intValue)  // POST: not matched
        #expect(try await harness.send("GET", "/api-key").status == 200)  // GET: not matched
        #expect(try await harness.send("DELETE", "/api-key/\(id)").status == 502)
        #expect(try await harness.send("DELETE", "/api-key/\(id)").status == 502)
        #expect(try await harness.send("DELETE", "/api-key/\(id)").status == 200)
        #expect(await harness.sandbox.pendingFaults.isEmpty)
    }

    @Test func faultsApplyInInjectionOrder() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["faults": [["status": 500], ["status": 502]]])
        #expect(try await harness.send("GET", "/api-key").status == 500)
        #expect(try await harness.send("GET", "/api-key").status == 502)
        #expect(try await harness.send("GET", "/api-key").status == 200)
    }

    @Test func faultsComeBeforeAuthentication() async throws {
        let harness = try SandboxHarness()
        await harness.sandbox.injectFaults([.status(503)])
        #expect(try await harness.send("GET", "/api-key", apiKey: "wrong").status == 503)
    }

    @Test func applyPerformsTheOperationThenAnswersWithTheFault() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["path": "/api-key/generate", "status": 504, "apply": true])
        let response = try await harness.send("POST", "/api-key/generate", body: ["name": "created anyway"])
        #expect(response.status == 504)
        #expect(try await harness.list().map { $0["name"] } == ["created anyway"])
    }

    @Test func latencyOnlyFaultPerformsTheOperation() async throws {
        let harness = try SandboxHarness()
        await harness.sandbox.injectFaults([.latency(.milliseconds(50), method: "POST")])
        let clock = ContinuousClock()
        let start = clock.now
        let key = try await harness.generate("slow")
        #expect(clock.now - start >= .milliseconds(50))
        #expect(key["name"] == "slow")
    }

    @Test(arguments: [
        JSON.array([]), ["bogus": 1], ["status": 99], ["status": "500"], ["count": 0], ["latency_ms": -1],
        ["drop": true, "status": 500], ["body": ["a": 1], "raw_body": "x", "status": 500], ["body": ["a": 1]],
        ["malformed": true, "body": ["a": 1]], ["apply": true], ["path": "api-key"], ["faults": [["status": 500], ["nope": true]]],
        ["faults": [], "status": 500], ["retry_after": -3],
    ])
    func badSpecsAreRejectedWithAMessage(spec: JSON) async throws {
        let harness = try SandboxHarness()
        let error = await #expect(throws: SandboxFaultSpecError.self) {
            try await harness.sandbox.injectFaults(json: spec)
        }
        #expect(error?.message.isEmpty == false)
        #expect(await harness.sandbox.pendingFaults.isEmpty)
    }
}
