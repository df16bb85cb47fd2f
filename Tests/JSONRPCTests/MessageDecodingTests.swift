import JSONRPC
import JanssonJSON
import Testing

@Suite struct MessageDecodingTests {
    private func decode(_ text: String) throws -> RPCMessage {
        try RPCMessage(decoding: json(text))
    }

    private func failure(_ text: String) -> MessageDecodingError? {
        do {
            _ = try RPCMessage(decoding: json(text))
            return nil
        } catch {
            return error
        }
    }

    @Test func request() throws {
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":7,"method":"m","params":[1]}"#)
                == .request(RPCRequest(id: .number(7), method: "m", params: [1])))
    }

    @Test func idNullIsARequest() throws {
        #expect(try decode(#"{"jsonrpc":"2.0","id":null,"method":"m"}"#) == .request(RPCRequest(id: .null, method: "m")))
    }

    @Test func missingIdIsANotification() throws {
        #expect(
            try decode(#"{"jsonrpc":"2.0","method":"m","params":{"a":1}}"#)
                == .notification(RPCNotification(method: "m", params: ["a": 1])))
    }

    @Test func stringAndLargeIntegerIdsAreKeptExactly() throws {
        #expect(try decode(#"{"jsonrpc":"2.0","id":"abc","method":"m"}"#) == .request(RPCRequest(id: .string("abc"), method: "m")))
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":9007199254740993,"method":"m"}"#)
                == .request(RPCRequest(id: .number(9_007_199_254_740_993), method: "m")))
        #expect(RequestID.number(9_007_199_254_740_993).serialized() == bytes("9007199254740993"))
        #expect(RequestID.string("a\"b\u{e9}").serialized() == bytes(#""a\"b\u00E9""#))
        #expect(RequestID.null.serialized() == bytes("null"))
    }

    @Test func realNumberOrObjectIdIsInvalidWithNullId() {
        for id in ["1.5", "1.0", #"{"a":1}"#, "[1]", "true"] {
            let error = failure(#"{"jsonrpc":"2.0","id":\#(id),"method":"m"}"#)
            #expect(error?.id == .null, "id \(id)")
            #expect(error?.error.code == -32600, "id \(id)")
        }
    }

    @Test func jsonrpcMustBeExactly20() {
        for version in [#""1.0""#, "2.0", #""2.0 ""#, "null"] {
            let error = failure(#"{"jsonrpc":\#(version),"id":3,"method":"m"}"#)
            #expect(error?.error.code == -32600, "jsonrpc \(version)")
            #expect(error?.id == .number(3), "a readable id is echoed")
        }
        #expect(failure(#"{"id":"x","method":"m"}"#)?.id == .string("x"))
    }

    @Test func methodMustBeAString() {
        let error = failure(#"{"jsonrpc":"2.0","id":1,"method":1}"#)
        #expect(error?.error.code == -32600)
        #expect(error?.error.message.contains("\"method\" must be a string") == true)
    }

    @Test func paramsMustBeObjectOrArray() {
        for params in [#""bar""#, "1", "null", "true"] {
            #expect(failure(#"{"jsonrpc":"2.0","id":1,"method":"m","params":\#(params)}"#)?.error.code == -32600)
        }
    }

    @Test func nonObjectsAreInvalid() {
        for text in ["1", #""x""#, "null"] {
            #expect(failure(text) == MessageDecodingError(id: .null, error: .invalidRequest("a message must be a JSON object, not \(text == "1" ? "an integer" : text == "null" ? "a null" : "a string")")))
        }
    }

    @Test func responses() throws {
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":1,"result":{"a":1}}"#)
                == .response(RPCResponse(id: .number(1), outcome: .success(["a": 1]))))
        #expect(
            try decode(#"{"jsonrpc":"2.0","id":"q","error":{"code":-32601,"message":"nope"}}"#)
                == .response(RPCResponse(id: .string("q"), outcome: .failure(RPCError(code: -32601, message: "nope")))))
        #expect(failure(#"{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"x"}}"#)?.error.code == -32600)
        #expect(failure(#"{"jsonrpc":"2.0","id":1}"#)?.error.code == -32600)
    }

    @Test func messagesRoundTripThroughJSON() throws {
        let samples: [RPCMessage] = [
            .request(RPCRequest(id: .string("r"), method: "m", params: ["x": [1, 2]])),
            .notification(RPCNotification(method: "n")),
            .response(RPCResponse(id: .null, outcome: .failure(.invalidParams(field: "f", reason: "is wrong")))),
        ]
        for message in samples {
            #expect(try RPCMessage(decoding: message.json) == message)
        }
    }
}

@Suite struct RPCErrorTests {
    @Test func standardCodes() {
        #expect(RPCError.parseError("x").code == -32700)
        #expect(RPCError.invalidRequest("x").code == -32600)
        #expect(RPCError.methodNotFound("x").code == -32601)
        #expect(RPCError.invalidParams(field: "a", reason: "b").code == -32602)
        #expect(RPCError.internalError("x").code == -32603)
        #expect(RPCError.requestCancelled.code == -32800)
    }

    @Test func invalidParamsNamesFieldAndReason() throws {
        let error = RPCError.invalidParams(field: "name", reason: "must be a string")
        #expect(error.data == ["field": "name", "reason": "must be a string"])
        #expect(error.message == "Invalid params: 'name' must be a string")
        #expect(try error.json.serializedString()
            == #"{"code":-32602,"message":"Invalid params: 'name' must be a string","data":{"field":"name","reason":"must be a string"}}"#)
    }

    @Test func errorObjectRoundTrips() {
        let error = RPCError(code: 42, message: "custom", data: [1, "two"])
        #expect(RPCError(json: error.json) == error)
        #expect(RPCError(json: ["code": 1.5, "message": "x"]) == nil)
    }
}
