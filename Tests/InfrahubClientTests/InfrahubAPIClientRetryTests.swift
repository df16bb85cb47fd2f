import InfrahubClient
import LogCaptureSupport
import Testing

/// Retries, rate limiting and cancellation, counted at a real server.
@Suite("Client retries and pacing")
struct InfrahubAPIClientRetryTests {
    @Test func rateLimitedThenServed() async throws {
        try await withServer([
            .respond(status: 429, headers: [("Retry-After", "0")], body: Bodies.error("Too many", reason: "rate_limited")),
            .respond(status: 200, body: Bodies.list),
        ]) { server in
            let records = try await withClient(server.baseURL) { try await $0.listKeys() }
            #expect(records.count == 1)
            #expect(server.hits == 2)
        }
    }

    @Test func retryAfterSecondsIsHonoured() async throws {
        try await withServer([
            .respond(status: 429, headers: [("Retry-After", "1")]),
            .respond(status: 200, body: Bodies.list),
        ]) { server in
            let clock = ContinuousClock()
            let started = clock.now
            _ = try await withClient(server.baseURL, maxBackoff: .seconds(5)) { try await $0.listKeys() }
            let elapsed = clock.now - started
            #expect(elapsed >= .milliseconds(900))
            #expect(elapsed < .seconds(4))
            #expect(server.hits == 2)
        }
    }

    @Test func retryAfterIsCappedAtMaxBackoff() async throws {
        try await withServer([
            .respond(status: 503, headers: [("Retry-After", "3600")]),
            .respond(status: 200, body: Bodies.list),
        ]) { server in
            let clock = ContinuousClock()
            let started = clock.now
            _ = try await withClient(server.baseURL, maxBackoff: .milliseconds(100)) { try await $0.listKeys() }
            #expect(clock.now - started < .seconds(3))
            #expect(server.hits == 2)
        }
    }

    @Test func rateLimitThatNeverClearsIsReported() async throws {
        try await withServer([], fallback: .respond(status: 429, body: Bodies.error("Slow down", reason: "rate_limited"))) {
            server in
            let error = try await withClient(server.baseURL, maxAttempts: 3) { client in
                await captureError { _ = try await client.updateKey(id: 1, name: "x", description: nil) }
            }
            #expect(error?.kind == .rateLimited)
            #expect(error?.message.contains("after 3 tries") == true)
            #expect(server.hits == 3)
        }
    }

    @Test func serverErrorsAreRetried() async throws {
        try await withServer([
            .respond(status: 503, body: #"{"message": "Service Unavailable"}"#),
            .respond(status: 502, body: "bad gateway"),
            .respond(status: 200, body: Bodies.updated),
        ]) { server in
            let record = try await withClient(server.baseURL, maxAttempts: 3) {
                try await $0.updateKey(id: 12, name: "renamed", description: "d")
            }
            #expect(record.name == "renamed")
            #expect(server.hits == 3)
            #expect(server.requests.allSatisfy { $0.method == "PUT" && $0.bodyText == #"{"name":"renamed","description":"d"}"# })
        }
    }

    @Test func serverErrorsExhaustTheBudget() async throws {
        try await withServer([], fallback: .respond(status: 500, body: #"{"message": "Internal Server Error"}"#)) { server in
            let error = try await withClient(server.baseURL, maxAttempts: 4) { client in
                await captureError { _ = try await client.listKeys() }
            }
            #expect(error?.kind == .serverError)
            #expect(server.hits == 4)
        }
    }

    @Test func lostConnectionIsRetriedForIdempotentCalls() async throws {
        try await withServer([.close, .respond(status: 200, body: Bodies.list)]) { server in
            let records = try await withClient(server.baseURL) { try await $0.listKeys() }
            #expect(records.count == 1)
            #expect(server.hits == 2)
        }
    }

    @Test func generateIsNotRetriedAfterATimeout() async throws {
        try await withServer([.hang], fallback: .respond(status: 200, body: Bodies.generated(secret: "x"))) { server in
            let error = try await withClient(server.baseURL, maxAttempts: 4, requestTimeout: .milliseconds(300)) {
                client in
                await captureError { _ = try await client.generateKey(name: "n", description: nil) }
            }
            let failure = try #require(error)
            #expect(failure.kind == .unreachable)
            #expect(failure.message.contains("did not answer"))
            #expect(failure.message.contains("may or may not have been created"))
            #expect(server.hits == 1)
        }
    }

    @Test func generateIsNotRetriedAfterALostConnectionOrServerError() async throws {
        try await withServer([.close, .respond(status: 500)], fallback: .respond(status: 200, body: Bodies.generated(secret: "x"))) {
            server in
            let errors = try await withClient(server.baseURL, maxAttempts: 4) { client in
                [
                    await captureError { _ = try await client.generateKey(name: "n", description: nil) },
                    await captureError { _ = try await client.generateKey(name: "n", description: nil) },
                ]
            }
            #expect(errors[0]?.kind == .unreachable)
            #expect(errors[1]?.kind == .serverError)
            #expect(server.hits == 2)
        }
    }

    @Test func generateIsRetriedAfterRateLimiting() async throws {
        try await withServer([
            .respond(status: 429),
            .respond(status: 200, body: Bodies.generated(secret: "5d41402a-bc4b-2a76-b971-9d911017c592")),
        ]) { server in
            let generated = try await withClient(server.baseURL) { try await $0.generateKey(name: "n", description: "d") }
            #expect(generated.record.id == 12)
            #expect(server.hits == 2)
        }
    }

    @Test func generateIsRetriedWhenTheConnectionIsRefused() async throws {
        let closed = try await ScriptedHTTPServer.start([])
        let baseURL = closed.baseURL
        try await closed.stop()
        let logs = LogCapture()
        let error = try await withClient(baseURL, maxAttempts: 3, logger: logs.logger) { client in
            await captureError { _ = try await client.generateKey(name: "n", description: nil) }
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("could not connect") == true)
        #expect(error?.message.contains("may or may not") == false)
        let attempts = logs.captured.filter { $0.contains("got no answer") }
        #expect(attempts.count == 3)
        #expect(attempts.allSatisfy { $0.contains("connectionRefused") })
    }

    @Test func deleteWhoseKeyVanishedAfterALostAttemptSucceeds() async throws {
        try await withServer([.close, .respond(status: 404, body: Bodies.error("Not found", reason: "not_found"))]) {
            server in
            try await withClient(server.baseURL) { try await $0.deleteKey(id: 3) }
            #expect(server.hits == 2)
        }
    }

    @Test func deleteWhoseKeyVanishedAfterATimeoutSucceeds() async throws {
        try await withServer([.hang, .respond(status: 404)]) { server in
            try await withClient(server.baseURL, requestTimeout: .milliseconds(300)) { try await $0.deleteKey(id: 3) }
            #expect(server.hits == 2)
        }
    }

    @Test func deleteOfAMissingKeyIsNotFound() async throws {
        try await withServer([.respond(status: 503), .respond(status: 404)]) { server in
            let error = try await withClient(server.baseURL) { client in
                await captureError { try await client.deleteKey(id: 3) }
            }
            #expect(error?.kind == .notFound)
            #expect(server.hits == 2)
        }
    }

    @Test func rateLimiterSpacesRequests() async throws {
        // 120 a minute: a burst of 12, then one every 5/9 s; the 14th call waits about 1.1 s.
        try await withServer([], fallback: .respond(status: 200, body: Bodies.list)) { server in
            let clock = ContinuousClock()
            let started = clock.now
            try await withClient(server.baseURL, requestsPerMinute: 120) { client in
                for _ in 0..<14 { _ = try await client.listKeys() }
            }
            let elapsed = clock.now - started
            #expect(elapsed >= .milliseconds(900))
            #expect(elapsed < .seconds(20))
            #expect(server.hits == 14)
        }
    }

    @Test func cancellationInterruptsBackoff() async throws {
        try await withServer([], fallback: .respond(status: 503, headers: [("Retry-After", "30")])) { server in
            let clock = ContinuousClock()
            let started = clock.now
            try await withClient(server.baseURL, maxAttempts: 5, maxBackoff: .seconds(60)) { client in
                let task = Task { await captureError { _ = try await client.listKeys() } }
                try await Task.sleep(for: .milliseconds(300))
                task.cancel()
                let error = await task.value
                #expect(error?.kind == .unreachable)
                #expect(error?.message.contains("cancelled") == true)
            }
            #expect(clock.now - started < .seconds(10))
            #expect(server.hits == 1)
        }
    }

    @Test func cancellationInterruptsRateLimitWait() async throws {
        try await withServer([], fallback: .respond(status: 200, body: Bodies.list)) { server in
            let clock = ContinuousClock()
            let started = clock.now
            try await withClient(server.baseURL, requestsPerMinute: 1) { client in
                _ = try await client.listKeys()
                let task = Task { await captureError { _ = try await client.listKeys() } }
                try await Task.sleep(for: .milliseconds(300))
                task.cancel()
                let error = await task.value
                #expect(error?.message.contains("cancelled") == true)
            }
            #expect(clock.now - started < .seconds(10))
            #expect(server.hits == 1)
        }
    }
}
