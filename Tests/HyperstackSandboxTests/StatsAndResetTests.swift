import InfrahubWire
import JanssonJSON
import Testing

@testable import HyperstackSandbox

@Suite struct StatsAndResetTests {
    @Test func everyRequestIsCountedByRouteTemplate() async throws {
        let harness = try SandboxHarness()
        _ = try await harness.send("GET", "/api-key")
        _ = try await harness.send("GET", "/api-key", apiKey: "wrong")  // unauthorized still counts
        let id = try #require(try await harness.generate("a")["id"]?.intValue)
        _ = try await harness.send("PUT", "/api-key/\(id)", body: ["name": "b"])
        _ = try await harness.send("PUT", "/api-key/nope", body: ["name": "b"])  // bad id, same route
        await harness.sandbox.injectFaults([.status(500, method: "DELETE")])
        _ = try await harness.send("DELETE", "/api-key/\(id)")  // faulted still counts
        _ = try await harness.send("GET", "/elsewhere")

        let stats = await harness.sandbox.stats()
        #expect(stats[.list] == 2)
        #expect(stats[.generate] == 1)
        #expect(stats[.update] == 2)
        #expect(stats[.delete] == 1)
        #expect(stats.unrouted == 1)
        #expect(stats.keyCount == 1)
        #expect(
            stats.json["requests"]
                == ["GET /api-key": 2, "POST /api-key/generate": 1, "PUT /api-key/{id}": 2, "DELETE /api-key/{id}": 1])
    }

    @Test func statsStartAtZeroForEveryRoute() async throws {
        let harness = try SandboxHarness()
        let json = await harness.sandbox.stats().json
        #expect(json["requests"] == ["GET /api-key": 0, "POST /api-key/generate": 0, "PUT /api-key/{id}": 0, "DELETE /api-key/{id}": 0])
        #expect(json["keys"] == 0)
        #expect(json["pending_faults"] == 0)
    }

    @Test func resetClearsKeysStatsAndFaultsButKeepsConfiguredKeys() async throws {
        let harness = try SandboxHarness()
        let secret = try #require(try await harness.generate("a")["key"]?.stringValue)
        _ = try await harness.list()
        await harness.sandbox.injectFaults([.status(500, path: "/never-requested")])

        try await harness.sandbox.reset()
        let stats = await harness.sandbox.stats()
        #expect(stats == SandboxStats())
        #expect(await harness.sandbox.pendingFaults.isEmpty)
        #expect(try await harness.send("GET", "/api-key", apiKey: secret).status == 401)
        #expect(try await harness.list().isEmpty)
    }
}
