import HTTPTypes
import HyperstackSandbox
import InfrahubWire
import JanssonJSON
import Testing

@Suite struct ValidationTests {
    @Test(arguments: [0, 201, 500])
    func nameOutsideOneTo200CharactersIsRejected(length: Int) async throws {
        let harness = try SandboxHarness()
        let response = try await harness.send("POST", "/api-key/generate", body: ["name": .string(name(length: length))])
        #expect(response.status == 400)
        #expect(response.errorReason == "bad_request")
        #expect(try response.json()["status"] == false)
    }

    @Test(arguments: [1, 200])
    func nameOfOneTo200CharactersIsAccepted(length: Int) async throws {
        let harness = try SandboxHarness()
        let key = try await harness.generate(name(length: length))
        #expect(key["name"]?.stringValue?.count == length)
    }

    /// Upstream counts characters (Python `len`), not UTF-8 bytes: 200 "é" is 400 bytes.
    @Test func nonASCIINamesCountCharactersNotBytes() async throws {
        let harness = try SandboxHarness()
        let accented = try await harness.generate(name(length: 200, of: "é"))
        #expect(accented["name"]?.stringValue == name(length: 200, of: "é"))
        let emoji = try await harness.generate("ключ 🔑 鍵")
        #expect(emoji["name"]?.stringValue == "ключ 🔑 鍵")

        let tooLong = try await harness.send("POST", "/api-key/generate", body: ["name": .string(name(length: 201, of: "é"))])
        #expect(tooLong.status == 400)
    }

    @Test func nameIsValidatedOnUpdateToo() async throws {
        let harness = try SandboxHarness()
        let id = try #require(try await harness.generate("ok")["id"]?.intValue)
        #expect(try await harness.send("PUT", "/api-key/\(id)", body: ["name": ""]).status == 400)
        #expect(try await harness.send("PUT", "/api-key/\(id)", body: ["description": "only"]).status == 400)
        #expect(try await harness.send("PUT", "/api-key/\(id)", body: ["name": .string(name(length: 201))]).status == 400)
        #expect(try await harness.send("PUT", "/api-key/\(id)", body: ["name": .string(name(length: 200))]).status == 200)
    }

    @Test(arguments: [
        "{not json", "[]", "\"name\"", "{}", #"{"name": null}"#, #"{"name": 5}"#, #"{"name": ["a"]}"#,
        #"{"name": "ok", "description": 7}"#, #"{"name": "ok", "description": {}}"#, "",
    ])
    func malformedOrMistypedBodiesAreBadRequests(body: String) async throws {
        let harness = try SandboxHarness()
        let response = try await harness.send("POST", "/api-key/generate", rawBody: body)
        #expect(response.status == 400, "body \(body) answered \(response.status)")
        #expect(response.errorReason == "bad_request")
        #expect(try await harness.list().isEmpty)
    }

    @Test func missingBodyIsABadRequest() async throws {
        let harness = try SandboxHarness()
        #expect(try await harness.send("POST", "/api-key/generate").status == 400)
    }

    @Test(arguments: ["abc", "1.5", "-1", "+1", "1e3", "99999999999999999999999"])
    func nonIntegerIdsAreBadRequests(id: String) async throws {
        let harness = try SandboxHarness()
        _ = try await harness.generate("k")
        let update = try await harness.send("PUT", "/api-key/\(id)", body: ["name": "n"])
        #expect(update.status == 400)
        #expect(update.errorReason == "bad_request")
        let delete = try await harness.send("DELETE", "/api-key/\(id)")
        #expect(delete.status == 400)
        #expect(try await harness.list().count == 1)
    }

    @Test func unknownRoutesAndWrongMethods() async throws {
        let harness = try SandboxHarness()
        let unknown = try await harness.send("GET", "/servers")
        #expect(unknown.status == 404)
        #expect(unknown.errorReason == "not_found")

        let wrongMethod = try await harness.send("DELETE", "/api-key")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.head.headerFields[.allow] == "GET")

        #expect(try await harness.send("GET", "/api-key/generate").status == 405)
        #expect(try await harness.send("GET", "/api-key/1").status == 405)
        #expect(try await harness.send("GET", "/api-key/1/extra").status == 404)
    }

    @Test func queryStringsDoNotChangeTheRoute() async throws {
        let harness = try SandboxHarness()
        #expect(try await harness.send("GET", "/api-key?page=2").status == 200)
    }
}
