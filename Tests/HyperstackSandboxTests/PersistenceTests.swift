import Foundation
import HyperstackSandbox
import InfrahubWire
import JanssonJSON
import Testing

@Suite struct PersistenceTests {
    @Test func stateSurvivesARestartWithoutStoringSecrets() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.json").path

        let first = try SandboxHarness(statePath: path)
        let kept = try await first.generate("kept", description: "survives")
        let dropped = try await first.generate("dropped")
        let secret = try #require(kept["key"]?.stringValue)
        #expect(try await first.send("DELETE", "/api-key/\(try #require(dropped["id"]?.intValue))").status == 200)

        // The file is private and holds no secret.
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let contents = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!contents.contains(secret))
        #expect(!contents.contains(configuredKey))
        #expect(!contents.contains(String(secret.prefix(8))))
        _ = try JSON.parse(contents)
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state.json"])

        // A new sandbox on the same file sees the key, accepts its secret, and keeps counting ids.
        let second = try SandboxHarness(statePath: path)
        let listed = try await second.list()
        #expect(listed.count == 1)
        #expect(listed[0]["name"] == "kept")
        #expect(listed[0]["description"] == "survives")
        #expect(listed[0]["created_at"] == kept["created_at"])
        #expect(listed[0]["key"]?.stringValue == "********-****-****-****-********" + secret.suffix(4))
        #expect(try await second.send("GET", "/api-key", apiKey: secret).status == 200)
        let next = try await second.generate("next")
        #expect(try #require(next["id"]?.intValue) > (try #require(dropped["id"]?.intValue)))
    }

    @Test func missingFileStartsEmpty() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let harness = try SandboxHarness(statePath: directory.appendingPathComponent("new.json").path)
        #expect(try await harness.list().isEmpty)
    }

    @Test(arguments: [
        "{not json", "[]", #"{"version": 2, "next_id": 1, "keys": []}"#, #"{"version": 1, "keys": []}"#,
        #"{"version": 1, "next_id": 2, "keys": [{"id": 1, "name": "x"}]}"#,
    ])
    func corruptFileIsAClearStartupError(contents: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.json").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)

        let error = #expect(throws: SandboxStateError.self) {
            _ = try Sandbox(configuration: SandboxConfiguration(apiKeys: [configuredKey], statePath: path), logger: quietLogger)
        }
        #expect(error?.path == path)
        #expect(error?.description.contains(path) == true)
    }

    @Test func resetEmptiesTheFile() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.json").path
        let harness = try SandboxHarness(statePath: path)
        _ = try await harness.generate("a")
        try await harness.sandbox.reset()
        #expect(try await SandboxHarness(statePath: path).list().isEmpty)
    }

    @Test func unwritableStateIsAServerErrorAndChangesNothing() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("missing-dir/state.json").path
        let harness = try SandboxHarness(statePath: path)
        let response = try await harness.send("POST", "/api-key/generate", body: ["name": "a"])
        #expect(response.status == 500)
        #expect(response.errorReason == "server_error")
        #expect(try await harness.list().isEmpty)
    }
}
