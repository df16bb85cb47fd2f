import HyperstackSandbox
import InfrahubWire
import JanssonJSON
import Testing

@Suite struct SandboxTransportTests {
    @Test func latencyBeyondTheTimeoutIsTimedOutButTheOperationHappened() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["path": "/api-key/generate", "latency_ms": 2000])
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: TransportFailure.self) {
            _ = try await harness.send("POST", "/api-key/generate", body: ["name": "late"], timeout: .milliseconds(100))
        }
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(100))
        #expect(elapsed < .milliseconds(1900), "waited for the latency instead of the timeout")
        do {
            _ = try await harness.send("POST", "/api-key/generate", body: ["name": "late2"], timeout: .milliseconds(1))
        } catch let failure as TransportFailure {
            Issue.record("no fault left, yet failed: \(failure)")
        }
        // The timed-out generate still created its key (emulating "timed out but created").
        #expect(try await harness.list().map { $0["name"] } == ["late", "late2"])
    }

    @Test func timedOutIsTheFailureKind() async throws {
        let harness = try SandboxHarness()
        await harness.sandbox.injectFaults([.latency(.seconds(1))])
        do {
            _ = try await harness.send("GET", "/api-key", timeout: .milliseconds(20))
            Issue.record("expected a timeout")
        } catch let failure as TransportFailure {
            guard case .timedOut = failure else {
                Issue.record("expected timedOut, got \(failure)")
                return
            }
        }
    }

    @Test func latencyWithinTheTimeoutAnswers() async throws {
        let harness = try SandboxHarness()
        await harness.sandbox.injectFaults([.latency(.milliseconds(30))])
        #expect(try await harness.send("GET", "/api-key", timeout: .seconds(5)).status == 200)
    }

    @Test func dropIsConnectionLost() async throws {
        let harness = try SandboxHarness()
        try await harness.sandbox.injectFaults(json: ["drop": true])
        do {
            _ = try await harness.send("GET", "/api-key")
            Issue.record("expected the connection to be lost")
        } catch let failure as TransportFailure {
            guard case .connectionLost = failure else {
                Issue.record("expected connectionLost, got \(failure)")
                return
            }
        }
        #expect(try await harness.send("GET", "/api-key").status == 200)
    }

    @Test func dropWithoutApplySkipsTheOperationAndWithApplyPerformsIt() async throws {
        let harness = try SandboxHarness()
        await harness.sandbox.injectFaults([.drop(path: "/api-key/generate"), .drop(path: "/api-key/generate", apply: true)])
        do {
            _ = try await harness.send("POST", "/api-key/generate", body: ["name": "never"])
            Issue.record("expected the connection to be lost")
        } catch TransportFailure.connectionLost {}
        await #expect(throws: TransportFailure.self) {
            _ = try await harness.send("POST", "/api-key/generate", body: ["name": "created"])
        }
        #expect(try await harness.list().map { $0["name"] } == ["created"])
    }

    @Test func cancellationDuringLatencyEndsTheWait() async throws {
        let harness = try SandboxHarness()
        await harness.sandbox.injectFaults([.latency(.seconds(30))])
        let task = Task { try await harness.send("GET", "/api-key", timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await #expect(throws: TransportFailure.self) { _ = try await task.value }
    }
}
