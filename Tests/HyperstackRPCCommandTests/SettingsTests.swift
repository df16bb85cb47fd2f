import ArgumentParser
import HyperstackRPCHost
import JSONRPC
import Logging
import Testing

@testable import hyperstack_rpc

/// Starting with no arguments skips ArgumentParser and serves `Settings.defaults`; these
/// tests hold that to what the parser itself makes of no arguments.
@Suite struct SettingsTests {
    @Test func noArgumentsParseToTheDefaultsTheFastPathUses() throws {
        let root = try HyperstackRPCCommand.parseAsRoot([])
        let serve = try #require(root as? ServeCommand, "no arguments must select the serve subcommand")
        #expect(serve.options.settings == Settings.defaults)
        #expect(try ServeCommand.parse([]).options.settings == Settings.defaults)
    }

    @Test func theDefaultsPassValidation() throws {
        var options = try SharedOptions.parse([])
        try options.validate()
        #expect(options.settings == Settings.defaults)
    }

    @Test func everyOptionReachesTheSettings() throws {
        let options = try SharedOptions.parse([
            "--sandbox", "--sandbox-state", "/tmp/state.json", "--base-url", "http://127.0.0.1:1/v1",
            "--api-key-file", "/tmp/key", "--access-token-file", "/tmp/token", "--cache-ttl", "5", "--poll-interval", "0.5", "--timeout", "7",
            "--rate-limit", "60", "--framing", "ndjson", "--max-message-bytes", "4096", "--max-in-flight", "16",
            "--log-level", "debug",
            "--log-file", "/tmp/log",
        ])
        let expected = Settings(
            sandbox: true, sandboxState: "/tmp/state.json", baseURL: "http://127.0.0.1:1/v1", apiKeyFile: "/tmp/key",
            accessTokenFile: "/tmp/token", cacheTTL: 5, pollInterval: 0.5, timeout: 7, rateLimit: 60, framing: .ndjson, maxMessageBytes: 4096,
            maxInFlight: 16, logLevel: .debug, logFile: "/tmp/log")
        #expect(options.settings == expected)
        #expect(expected != Settings.defaults, "every field differs from its default, so none can be dropped unnoticed")
    }

    @Test func maxInFlightMustBePositive() throws {
        // `parse` validates.
        #expect(throws: (any Error).self) { try SharedOptions.parse(["--max-in-flight", "0"]) }
        #expect(try SharedOptions.parse(["--max-in-flight", "1"]).settings.maxInFlight == 1)
        #expect(Settings.defaults.maxInFlight == ConnectionConfiguration.defaultMaxInFlight)
    }

    @Test func valueListsAreTheRawValues() {
        #expect(Framing.allValueStrings == ["auto", "lsp", "ndjson"])
        #expect(Framing.ndjson.defaultValueDescription == "ndjson")
        #expect(Logger.Level.allValueStrings.contains("warning"))
    }
}
