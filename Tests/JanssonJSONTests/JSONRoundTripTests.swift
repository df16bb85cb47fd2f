import JanssonJSON
import Testing

@Suite struct JSONRoundTripTests {
    @Test func scalarsRoundTrip() throws {
        let values: [JSON] = [nil, true, false, 0, -1, 42, 3.5, -0.25, "", "plain", [], [:]]
        for value in values {
            #expect(try JSON.parse(value.serialized()) == value)
        }
    }

    @Test func nestedValueRoundTrips() throws {
        let value: JSON = ["keys": [["id": 1, "name": "a", "description": nil]], "revision": 7, "ok": true]
        #expect(try JSON.parse(value.serialized()) == value)
    }

    @Test func serialisesCompactlyInInsertionOrder() throws {
        let value: JSON = ["jsonrpc": "2.0", "id": 1, "result": ["b": 1, "a": [1, 2]]]
        #expect(try value.serializedString() == #"{"jsonrpc":"2.0","id":1,"result":{"b":1,"a":[1,2]}}"#)
    }

    @Test func parsesAnyTopLevelValue() throws {
        #expect(try JSON.parse("12") == .int(12))
        #expect(try JSON.parse("\"x\"") == .string("x"))
        #expect(try JSON.parse("null") == .null)
    }

    @Test func objectEqualityIgnoresOrder() throws {
        #expect(try JSON.parse(#"{"a":1,"b":2}"#) == JSON.parse(#"{"b":2,"a":1}"#))
        #expect(try JSON.parse(#"{"a":1,"b":2}"#) != JSON.parse(#"{"a":1,"b":3}"#))
    }

    @Test func duplicateKeysKeepTheLastUnlessRejected() throws {
        #expect(try JSON.parse(#"{"a":1,"a":2}"#)["a"] == .int(2))
        #expect(throws: JSONParseError.self) {
            try JSON.parse(#"{"a":1,"a":2}"#, options: JSONParseOptions(rejectDuplicateKeys: true))
        }
    }
}

@Suite struct JSONEscapingTests {
    @Test func nonASCIIIsEscapedSoFramesStayOnOneLine() throws {
        let text = "café \u{2028} \u{2029} line\nbreak ☃ 🎉"
        let bytes = try JSON.string(text).serialized()
        #expect(bytes.allSatisfy { $0 < 0x80 })
        #expect(!bytes.contains(0x0A))
        let serialized = String(decoding: bytes, as: UTF8.self)
        #expect(serialized.contains("\\u2028"))
        #expect(serialized.contains("\\u2029"))
        #expect(serialized.contains("\\n"))
        #expect(serialized.lowercased().contains("\\ud83c\\udf89"))
        #expect(try JSON.parse(bytes) == .string(text))
    }

    @Test func controlCharactersAndQuotesAreEscaped() throws {
        let text = "tab\t quote\" backslash\\ bell\u{07}"
        let serialized = try JSON.string(text).serializedString()
        #expect(serialized == #""tab\t quote\" backslash\\ bell\u0007""#)
        #expect(try JSON.parse(serialized) == .string(text))
    }

    @Test func embeddedNulSurvives() throws {
        let text = "a\u{0}b"
        let serialized = try JSON.string(text).serializedString()
        #expect(serialized == #""a\u0000b""#)
        #expect(try JSON.parse(serialized) == .string(text))
    }

    @Test func multiByteInputParses() throws {
        let bytes = Array(#"{"name":"日本語 ☃"}"#.utf8)
        #expect(try JSON.parse(bytes)["name"] == .string("日本語 ☃"))
    }

    @Test func keysAreEscapedToo() throws {
        let value: JSON = ["ключ\u{2028}": 1]
        let bytes = try value.serialized()
        #expect(bytes.allSatisfy { $0 < 0x80 })
        #expect(try JSON.parse(bytes) == value)
    }
}

@Suite struct JSONNumberTests {
    @Test func sixtyFourBitIntegerLimitsRoundTrip() throws {
        for value in [Int64.max, Int64.min, 0, -9_007_199_254_740_993] {
            let serialized = try JSON.int(value).serializedString()
            #expect(serialized == String(value))
            #expect(try JSON.parse(serialized) == .int(value))
        }
    }

    @Test func integersBeyondSixtyFourBitsAreErrors() {
        #expect(throws: JSONParseError.self) { try JSON.parse("9223372036854775808") }
        #expect(throws: JSONParseError.self) { try JSON.parse("-9223372036854775809") }
        #expect(throws: JSONParseError.self) { try JSON.parse("[123456789012345678901234567890]") }
    }

    @Test func realsKeepTheirValue() throws {
        for value in [0.1, 1e-300, 1.7976931348623157e308, -2.5e-5, Double.leastNonzeroMagnitude] {
            let parsed = try JSON.parse(JSON.double(value).serialized())
            #expect(parsed.numberValue == value)
        }
    }

    @Test func realOverflowIsAnError() {
        #expect(throws: JSONParseError.self) { try JSON.parse("1e400") }
    }

    @Test func integerAndRealStayDistinct() throws {
        #expect(try JSON.parse("1") == .int(1))
        #expect(try JSON.parse("1.0") == .double(1))
        #expect(try JSON.parse("1.0").intValue == nil)
    }

    @Test func nonFiniteRealsCannotBeSerialised() {
        #expect(throws: JSONSerializationError.self) { try JSON.double(.nan).serialized() }
        #expect(throws: JSONSerializationError.self) { try JSON.array([.double(.infinity)]).serialized() }
    }
}

@Suite struct JSONInvalidInputTests {
    @Test(arguments: [
        "", " ", "{", "[1,", #"{"a" 1}"#, "tru", "nul", "'single'", "[1,]", #"{"a":1,}"#,
        "01", "1.", ".5", "NaN", "Infinity", "[1] [2]", #""unterminated"#, #""bad \x escape""#,
    ])
    func malformedTextIsRejected(text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: JSONParseError.self) { try JSON.parse([0x22, 0xFF, 0xFE, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSON.parse([0x22, 0xC3, 0x22]) }
    }

    @Test func loneSurrogateEscapeIsRejected() {
        #expect(throws: JSONParseError.self) { try JSON.parse(#""\ud800""#) }
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
        let justTooDeep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: JSONParseError.self) { try JSON.parse(justTooDeep) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSON.parse(fine) }
    }

    @Test func errorsNeverQuoteTheInput() {
        // A malformed request may carry a secret; Jansson's "near '...'" would quote it.
        for text in [#"{"apiKey": sk-SECRET-1234}"#, "sk-SECRET-1234", #"["sk-SECRET-1234" "#] {
            do {
                _ = try JSON.parse(text)
                Issue.record("expected a parse error for \(text)")
            } catch {
                #expect(!error.message.contains("SECRET"))
                #expect(!error.description.contains("SECRET"))
            }
        }
    }

    @Test func errorsReportPosition() {
        do {
            _ = try JSON.parse("{\n  \"a\": tru\n}")
            Issue.record("expected a parse error")
        } catch {
            #expect(error.line == 2)
            #expect(!error.message.isEmpty)
        }
    }
}

@Suite struct JSONAccessorTests {
    @Test func accessorsMatchTheirCase() {
        let value: JSON = ["s": "x", "i": 3, "d": 2.5, "b": true, "n": nil, "a": [1], "o": ["k": 1]]
        #expect(value["s"]?.stringValue == "x")
        #expect(value["i"]?.intValue == 3)
        #expect(value["i"]?.numberValue == 3)
        #expect(value["d"]?.numberValue == 2.5)
        #expect(value["d"]?.intValue == nil)
        #expect(value["b"]?.boolValue == true)
        #expect(value["n"]?.isNull == true)
        #expect(value["a"]?.arrayValue?.count == 1)
        #expect(value["o"]?.objectValue?.keys == ["k"])
        #expect(value["missing"] == nil)
        #expect(value["s"]?.typeName == "string")
    }

    @Test func objectSetterReplacesInPlaceAndRemoves() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = 3
        object["c"] = 4
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object["a"] == .int(3))
    }
}
