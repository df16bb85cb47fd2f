import JSONRPC
import JanssonJSON
import Testing

/// Section 7 of the JSON-RPC 2.0 specification, example by example, over LSP framing.
@Suite struct SpecExampleTests {
    @Test func positionalParameters() async throws {
        let replies = try await exchange([
            #"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
            #"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#,
        ])
        #expect(Set(replies.map { try! $0.serializedString() }) == [
            #"{"jsonrpc":"2.0","id":1,"result":19}"#, #"{"jsonrpc":"2.0","id":2,"result":-19}"#,
        ])
    }

    @Test func namedParameters() async throws {
        let replies = try await exchange([
            #"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
            #"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
        ])
        #expect(replies.count == 2)
        #expect(replies.contains(json(#"{"jsonrpc":"2.0","result":19,"id":3}"#)))
        #expect(replies.contains(json(#"{"jsonrpc":"2.0","result":19,"id":4}"#)))
    }

    @Test func notificationsAreNotAnswered() async throws {
        let log = Counter()
        let replies = try await exchange(
            [
                #"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#,
                #"{"jsonrpc": "2.0", "method": "foobar"}"#,
            ], methods: testMethods(log: log))
        #expect(replies.isEmpty)
        #expect(log.items == ["update [1,2,3,4,5]"])
    }

    @Test func nonExistentMethod() async throws {
        let replies = try await exchange([#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#])
        #expect(replies.count == 1)
        #expect(replies[0]["id"] == "1")
        #expect(replies[0]["error"]?["code"] == -32601)
        #expect(replies[0]["error"]?["message"]?.stringValue?.contains("foobar") == true)
        #expect(replies[0]["result"] == nil)
    }

    @Test func invalidJSON() async throws {
        let replies = try await exchange([#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#])
        #expect(replies.count == 1)
        #expect(replies[0]["id"] == .null)
        #expect(replies[0]["error"]?["code"] == -32700)
    }

    @Test func invalidRequestObject() async throws {
        let replies = try await exchange([#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#])
        #expect(replies.count == 1)
        #expect(replies[0]["id"] == .null)
        #expect(replies[0]["error"]?["code"] == -32600)
    }

    @Test func batchWithInvalidJSON() async throws {
        let replies = try await exchange([
            #"[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method""#
        ])
        #expect(replies.count == 1)
        #expect(replies[0].objectValue != nil, "a parse error is one object, not an array")
        #expect(replies[0]["error"]?["code"] == -32700)
        #expect(replies[0]["id"] == .null)
    }

    @Test func emptyBatch() async throws {
        let replies = try await exchange(["[]"])
        #expect(replies.count == 1)
        #expect(replies[0].objectValue != nil, "an empty batch is answered with one object, not an array")
        #expect(replies[0]["error"]?["code"] == -32600)
        #expect(replies[0]["id"] == .null)
    }

    @Test func invalidBatchOfOne() async throws {
        let replies = try await exchange(["[1]"])
        #expect(replies.count == 1)
        let entries = try #require(replies[0].arrayValue)
        #expect(entries.count == 1)
        #expect(entries[0]["error"]?["code"] == -32600)
        #expect(entries[0]["id"] == .null)
    }

    @Test func invalidBatchOfThree() async throws {
        let replies = try await exchange(["[1,2,3]"])
        let entries = try #require(replies.first?.arrayValue)
        #expect(replies.count == 1)
        #expect(entries.count == 3)
        #expect(entries.allSatisfy { $0["error"]?["code"] == -32600 && $0["id"] == .null })
    }

    @Test func mixedBatch() async throws {
        let replies = try await exchange([
            """
            [
                {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
                {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
                {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
                {"foo": "boo"},
                {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
                {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
            ]
            """
        ])
        #expect(replies.count == 1, "a batch is answered with one frame")
        let entries = try #require(replies.first?.arrayValue)
        #expect(entries.count == 5)
        let byID = Dictionary(entries.map { (($0["id"]?.stringValue ?? "null"), $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byID["1"]?["result"] == 7)
        #expect(byID["2"]?["result"] == 19)
        #expect(byID["null"]?["error"]?["code"] == -32600)
        #expect(byID["5"]?["error"]?["code"] == -32601)
        #expect(byID["9"]?["result"] == ["hello", 5])
    }

    @Test func allNotificationBatch() async throws {
        let log = Counter()
        let replies = try await exchange(
            [
                #"[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},{"jsonrpc": "2.0", "method": "update", "params": [7]}]"#
            ], methods: testMethods(log: log))
        #expect(replies.isEmpty)
        #expect(log.items == ["update [7]"])
    }
}
