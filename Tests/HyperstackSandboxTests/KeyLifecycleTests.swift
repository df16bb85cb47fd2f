import HyperstackSandbox
import InfrahubWire
import JanssonJSON
import Testing

@Suite struct KeyLifecycleTests {
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower-case hex.
    static func looksLikeUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12]
            && groups.allSatisfy { $0.allSatisfy { "0123456789abcdef".contains($0) } }
    }

    static func looksLikeTimestamp(_ text: String) -> Bool {
        // 2026-05-06T15:18:42Z
        let pattern = Array("dddd-dd-ddTdd:dd:ddZ")
        let chars = Array(text)
        guard chars.count == pattern.count else { return false }
        return zip(chars, pattern).allSatisfy { char, want in want == "d" ? char.isASCII && char.isNumber : char == want }
    }

    @Test func generateReturnsTheFullSecretOnce() async throws {
        let harness = try SandboxHarness()
        let response = try await harness.send("POST", "/api-key/generate", body: ["name": "deploy", "description": "CI deploys"])
        #expect(response.status == 200)
        let json = try response.json()
        #expect(json["status"] == true)
        #expect(json["message"]?.stringValue?.isEmpty == false)
        let key = try #require(json["api_key"])
        #expect(key["id"]?.intValue == 1)
        #expect(key["name"] == "deploy")
        #expect(key["description"] == "CI deploys")
        let secret = try #require(key["key"]?.stringValue)
        #expect(Self.looksLikeUUID(secret))
        #expect(Self.looksLikeTimestamp(try #require(key["created_at"]?.stringValue)))

        // Every later view shows the masked form only.
        let listed = try await harness.list()
        #expect(listed.count == 1)
        #expect(listed[0]["key"]?.stringValue == "********-****-****-****-********" + secret.suffix(4))
        #expect(!(try await harness.send("GET", "/api-key").text.contains(secret)))

        let updated = try await harness.send("PUT", "/api-key/1", body: ["name": "deploy2"])
        #expect(try updated.json()["api_key"]?["key"]?.stringValue == "********-****-****-****-********" + secret.suffix(4))
        #expect(!updated.text.contains(secret))
    }

    @Test func secretsAreRandom() async throws {
        let harness = try SandboxHarness()
        let first = try await harness.generate("a")["key"]?.stringValue
        let second = try await harness.generate("b")["key"]?.stringValue
        #expect(first != second)
    }

    @Test func listShowsEveryKeyWithAllFields() async throws {
        let harness = try SandboxHarness()
        _ = try await harness.generate("one")
        _ = try await harness.generate("two", description: "second")
        let keys = try await harness.list()
        #expect(keys.map { $0["name"] } == ["one", "two"])
        #expect(keys.map { $0["description"] } == [.null, "second"] as [JSON?])
        for key in keys {
            #expect(key.objectValue?.keys.sorted() == ["created_at", "description", "id", "key", "name"])
        }
    }

    @Test func idsIncreaseAndAreNeverReused() async throws {
        let harness = try SandboxHarness()
        let first = try #require(try await harness.generate("a")["id"]?.intValue)
        let second = try #require(try await harness.generate("b")["id"]?.intValue)
        #expect(second > first)
        #expect(try await harness.send("DELETE", "/api-key/\(second)").status == 200)
        let third = try #require(try await harness.generate("c")["id"]?.intValue)
        #expect(third > second)
        try await harness.sandbox.reset()
        let fourth = try #require(try await harness.generate("d")["id"]?.intValue)
        #expect(fourth > third)
    }

    @Test func updateChangesNameAndOptionallyDescription() async throws {
        let harness = try SandboxHarness()
        let id = try #require(try await harness.generate("old", description: "kept")["id"]?.intValue)

        let renamed = try await harness.send("PUT", "/api-key/\(id)", body: ["name": "new"])
        #expect(renamed.status == 200)
        #expect(try renamed.json()["status"] == true)
        #expect(try renamed.json()["api_key"]?["name"] == "new")
        #expect(try renamed.json()["api_key"]?["description"] == "kept")

        let described = try await harness.send("PUT", "/api-key/\(id)", body: ["name": "new", "description": "changed"])
        #expect(try described.json()["api_key"]?["description"] == "changed")
        #expect(try await harness.list().first?["description"] == "changed")
    }

    @Test func deleteRemovesTheKey() async throws {
        let harness = try SandboxHarness()
        let id = try #require(try await harness.generate("gone")["id"]?.intValue)
        let response = try await harness.send("DELETE", "/api-key/\(id)")
        #expect(response.status == 200)
        #expect(try response.json()["status"] == true)
        #expect(try response.json()["message"]?.stringValue?.isEmpty == false)
        #expect(try await harness.list().isEmpty)
    }

    @Test func unknownIdIsNotFound() async throws {
        let harness = try SandboxHarness()
        let id = try #require(try await harness.generate("a")["id"]?.intValue)
        let update = try await harness.send("PUT", "/api-key/\(id + 100)", body: ["name": "x"])
        #expect(update.status == 404)
        #expect(update.errorReason == "not_found")
        #expect(try await harness.send("DELETE", "/api-key/\(id + 100)").status == 404)
        #expect(try await harness.send("DELETE", "/api-key/\(id)").status == 200)
        #expect(try await harness.send("DELETE", "/api-key/\(id)").status == 404)
    }

    @Test func duplicateNameOnGenerateIsAConflict() async throws {
        let harness = try SandboxHarness()
        _ = try await harness.generate("same")
        let response = try await harness.send("POST", "/api-key/generate", body: ["name": "same"])
        #expect(response.status == 409)
        #expect(response.errorReason == "already_exist")
        #expect(try await harness.list().count == 1)
        // Names compare exactly.
        _ = try await harness.generate("Same")
    }

    @Test func generateAtTheLimitIsForbidden() async throws {
        let harness = try SandboxHarness(maxKeys: 2)
        _ = try await harness.generate("a")
        _ = try await harness.generate("b")
        let response = try await harness.send("POST", "/api-key/generate", body: ["name": "c"])
        #expect(response.status == 403)
        #expect(try response.json() == ["status": false, "message": "Maximum API key limit reached", "error_reason": "forbidden"])

        // Deleting one makes room again.
        #expect(try await harness.send("DELETE", "/api-key/1").status == 200)
        _ = try await harness.generate("c")
    }
}
