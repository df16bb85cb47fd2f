import JSONRPC
import JSONRPCTestSupport
import JanssonJSON
import Testing

@Suite struct ConnectionErrorTests {
    @Test func idNullIsARequest() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":null,"method":"sum","params":[1,2]}"#])
        #expect(replies == [json(#"{"jsonrpc":"2.0","id":null,"result":3}"#)])
    }

    @Test func idsAreEchoedExactly() async throws {
        let ids = [#""abc""#, #""""#, "0", "-7", "9223372036854775807", #""\u00e9\n""#, "null"]
        let replies = try await exchange(ids.map { #"{"jsonrpc":"2.0","id":\#($0),"method":"get_data"}"# })
        #expect(replies.count == ids.count)
        for id in ids {
            #expect(replies.contains { $0["id"] == json(id) }, "id \(id)")
        }
        // The raw bytes keep big integers exact.
        let peer = makeConnection()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":9007199254740993,"method":"get_data"}"#))
        await peer.finishInput(timeout: .seconds(20))
        let body = try #require(try await peer.bodies().first)
        #expect(String(decoding: body, as: UTF8.self) == #"{"jsonrpc":"2.0","id":9007199254740993,"result":["hello",5]}"#)
    }

    @Test func invalidRequestEchoesAReadableId() async throws {
        let replies = try await exchange([#"{"jsonrpc":"1.0","id":"keep-me","method":"sum"}"#])
        #expect(replies.count == 1)
        #expect(replies[0]["id"] == "keep-me")
        #expect(replies[0]["error"]?["code"] == -32600)
    }

    @Test func realNumberIdIsInvalidWithNullId() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":1.5,"method":"sum"}"#, #"{"jsonrpc":"2.0","id":{},"method":"sum"}"#])
        #expect(replies.count == 2)
        #expect(replies.allSatisfy { $0["id"] == .null && $0["error"]?["code"] == -32600 })
    }

    @Test func unknownMethod() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":5,"method":"no.such.method"}"#])
        #expect(replies[0]["error"]?["code"] == -32601)
        #expect(replies[0]["error"]?["message"] == "Method not found: 'no.such.method'")
    }

    @Test func invalidParamsNameTheField() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":5,"method":"subtract","params":{"minuend":"x"}}"#])
        let error = try #require(replies.first?["error"])
        #expect(error["code"] == -32602)
        #expect(error["data"] == ["field": "minuend", "reason": "must be an integer"])
    }

    @Test func unexpectedHandlerErrorIsAGenericInternalError() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":5,"method":"explode"}"#])
        let error = try #require(replies.first?["error"])
        #expect(error["code"] == -32603)
        #expect(error["message"]?.stringValue?.contains("Boom") == false, "internal details are not leaked")
    }

    @Test func unencodableResultIsAnInternalError() async throws {
        let replies = try await exchange([#"{"jsonrpc":"2.0","id":5,"method":"nan"}"#])
        #expect(replies.first?["error"]?["code"] == -32603)
    }

    @Test func failingNotificationIsNotAnswered() async throws {
        let replies = try await exchange([
            #"{"jsonrpc":"2.0","method":"explode"}"#,
            #"{"jsonrpc":"2.0","method":"subtract","params":{"minuend":"x"}}"#,
            #"{"jsonrpc":"2.0","method":"no.such.method"}"#,
        ])
        #expect(replies.isEmpty)
    }

    @Test func serializedResultIsSplicedVerbatim() async throws {
        let peer = makeConnection()
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":"c","method":"cached"}"#))
        await peer.finishInput(timeout: .seconds(20))
        let body = try #require(try await peer.bodies().first)
        #expect(String(decoding: body, as: UTF8.self) == #"{"jsonrpc":"2.0","id":"c","result":{"keys":[1,2,3],"note":"spliced as-is"}}"#)
    }

    @Test func responsesFromTheClientAreIgnored() async throws {
        let replies = try await exchange([
            #"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            #"{"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"x"}}"#,
            #"{"jsonrpc":"2.0","id":3,"error":"not an error object"}"#,
        ])
        #expect(replies.isEmpty)
    }

    @Test func oversizedMessageIsAnsweredAndSkipped() async throws {
        let peer = makeConnection(maxMessageBytes: 100)
        let big = #"{"jsonrpc":"2.0","id":1,"method":"echo","params":[""# + String(repeating: "x", count: 500) + #""]}"#
        let stream = lspFrame(big) + lspFrame(#"{"jsonrpc":"2.0","id":2,"method":"sum","params":[2,3]}"#)
        for byte in stream { peer.send([byte]) }
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies.count == 2)
        #expect(replies[0]["id"] == .null)
        #expect(replies[0]["error"]?["code"] == -32600)
        let message = try #require(replies[0]["error"]?["message"]?.stringValue)
        #expect(message.contains("\(big.utf8.count) bytes") && message.contains("limit of 100 bytes"))
        #expect(replies[1] == json(#"{"jsonrpc":"2.0","id":2,"result":5}"#))
    }

    @Test func oversizedLineIsAnsweredAndSkipped() async throws {
        let peer = makeConnection(maxMessageBytes: 100)
        let big = #"{"jsonrpc":"2.0","id":1,"method":"echo","params":[""# + String(repeating: "x", count: 500) + #""]}"#
        peer.send(bytes(big + "\n" + #"{"jsonrpc":"2.0","id":2,"method":"sum","params":[2,3]}"# + "\n"))
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies.count == 2)
        #expect(replies[0]["error"]?["code"] == -32600)
        #expect(replies[0]["id"] == .null)
        #expect(replies[1]["result"] == 5)
    }

    @Test func garbageHeaderRecovers() async throws {
        let peer = makeConnection()
        peer.send(bytes("Content-Length: twelve\r\n\r\n{\"junk\":true}"))
        peer.send(lspFrame(#"{"jsonrpc":"2.0","id":9,"method":"sum","params":[4,5]}"#))
        await peer.finishInput(timeout: .seconds(20))
        let replies = try await peer.messages()
        #expect(replies.count == 2)
        #expect(replies[0]["id"] == .null)
        #expect(replies[0]["error"]?["code"] == -32700)
        #expect(replies[0]["error"]?["message"]?.stringValue?.contains("Content-Length") == true)
        // Client bytes are never quoted back: they could hold a secret.
        #expect(replies[0]["error"]?["message"]?.stringValue?.contains("twelve") == false)
        #expect(replies[1] == json(#"{"jsonrpc":"2.0","id":9,"result":9}"#))
    }

    @Test func deeplyNestedInputIsAParseErrorNotACrash() async throws {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let replies = try await exchange([deep])
        #expect(replies.count == 1)
        #expect(replies[0]["error"]?["code"] == -32700)
    }
}
