import Credentials
import Testing

@testable import InfrahubClient

@Suite("Decoding 2xx bodies")
struct APIKeyResponseDecoderTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func listKeepsMaskedKeysAndToleratesExtraFields() throws {
        let body = """
            {"status": true, "message": "Success", "extra": {"x": 1}, "api_keys": [
              {"id": 7, "name": "ci", "description": "for CI", "key": "********-****-****-****-********be9a",
               "created_at": "2026-05-06T15:18:42", "last_used": null},
              {"id": "8", "name": "bare", "description": null}
            ]}
            """
        let records = try APIKeyResponseDecoder.decodeList(bytes(body))
        #expect(
            records == [
                APIKeyRecord(
                    id: 7, name: "ci", description: "for CI", createdAt: "2026-05-06T15:18:42Z",
                    maskedKey: "********-****-****-****-********be9a"),
                APIKeyRecord(id: 8, name: "bare"),
            ])
    }

    @Test func generateReturnsSecretAndDerivesMask() throws {
        let body = """
            {"status": true, "message": "ok", "api_key": {"id": 12, "name": "n", "description": "d",
             "key": "00000000-aaaa-bbbb-cccc-0123456789ab", "created_at": "2026-05-06T15:18:42.123+02:00"}}
            """
        let generated = try APIKeyResponseDecoder.decodeGenerated(bytes(body))
        #expect(generated.secret.revealed == "00000000-aaaa-bbbb-cccc-0123456789ab")
        #expect(
            generated.record
                == APIKeyRecord(
                    id: 12, name: "n", description: "d", createdAt: "2026-05-06T13:18:42Z",
                    maskedKey: "********-****-****-****-********89ab"))
    }

    @Test func generateWithoutSecretIsMalformed() {
        #expect(throws: APIKeyResponseDecoder.Failure.self) {
            try APIKeyResponseDecoder.decodeGenerated(bytes(#"{"api_key": {"id": 1, "name": "n"}}"#))
        }
    }

    @Test func updateMasksAnUnmaskedKey() throws {
        let record = try APIKeyResponseDecoder.decodeUpdated(
            bytes(#"{"api_key": {"id": 3, "name": "n", "key": "full-secret-value-1234"}}"#))
        #expect(record.maskedKey == "********-****-****-****-********1234")
    }

    /// Issue 10, item 6: list masks an unmasked upstream `key` as update does, and a value that
    /// only starts with "*" is not taken for a mask.
    @Test func listMasksUnmaskedKeys() throws {
        let records = try APIKeyResponseDecoder.decodeList(
            bytes(#"""
                {"api_keys": [{"id": 1, "name": "a", "key": "full-secret-value-1234"},
                              {"id": 2, "name": "b", "key": "*starred-secret-value-5678"},
                              {"id": 3, "name": "c", "key": "********-****-****-****-********be9a"},
                              {"id": 4, "name": "d", "key": "****be9a"}]}
                """#))
        #expect(records.map(\.maskedKey) == [
            "********-****-****-****-********1234", "********-****-****-****-********5678",
            "********-****-****-****-********be9a", "****be9a",
        ])
    }

    @Test(arguments: [
        "", "not json", "[]", #"{"api_keys": 3}"#, #"{"api_keys": [{"name": "no id"}]}"#,
        #"{"api_keys": [{"id": 1}]}"#, #"{"api_keys": [7]}"#, #"{"api_keys": [{"id": 1.5, "name": "x"}]}"#,
    ])
    func malformedListBodies(body: String) {
        #expect {
            try APIKeyResponseDecoder.decodeList(bytes(body))
        } throws: { error in
            guard case .malformed = error as? APIKeyResponseDecoder.Failure else { return false }
            return true
        }
    }

    @Test func statusFalseIsRefusal() {
        #expect {
            try APIKeyResponseDecoder.decodeUpdated(bytes(#"{"status": false, "message": "nope"}"#))
        } throws: { error in
            guard case .refused(let body) = error as? APIKeyResponseDecoder.Failure else { return false }
            return body.message == "nope"
        }
    }

    @Test func deleteAcceptsEnvelopeOrNothing() throws {
        try APIKeyResponseDecoder.decodeDeleted(bytes(#"{"status": true, "message": "Deleted"}"#))
        try APIKeyResponseDecoder.decodeDeleted(bytes(""))
        #expect(throws: APIKeyResponseDecoder.Failure.self) {
            try APIKeyResponseDecoder.decodeDeleted(bytes("<html>"))
        }
    }

    @Test func payloadOmitsNilDescription() throws {
        #expect(String(decoding: InfrahubAPIClient.payload(name: "a", description: nil), as: UTF8.self) == #"{"name":"a"}"#)
        #expect(
            String(decoding: InfrahubAPIClient.payload(name: "a", description: ""), as: UTF8.self)
                == #"{"name":"a","description":""}"#)
    }
}
