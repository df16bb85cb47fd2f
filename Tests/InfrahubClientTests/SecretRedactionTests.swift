import Credentials
import Foundation
import HTTPTypes
import InfrahubWire
import Testing

@testable import InfrahubClient

@Suite("Secret redaction")
struct SecretRedactionTests {
    /// Every 8-character run of it holds a character that percent-encoding changes.
    private let key = "hs3a+9f=c2:e71@0b4!d9e*5c6$a01,7f2+"
    private var redactor: SecretRedactor { SecretRedactor(secret: SecretString(key)) }

    private func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn:
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"))!
    }

    /// Any 8-character run of `key`, in any case, left in `text`.
    private func leftover(_ text: String, _ key: String) -> String? {
        let lowered = text.lowercased()
        let forms = [key, percentEncoded(key), Data(key.utf8).base64EncodedString()].map { $0.lowercased() }
        for form in forms where form.count >= 8 {
            let characters = Array(form)
            for start in 0...(characters.count - 8) where lowered.contains(String(characters[start..<(start + 8)])) {
                return String(characters[start..<(start + 8)])
            }
        }
        return nil
    }

    @Test func catchesEverySpelling() {
        let base64 = Data(key.utf8).base64EncodedString()
        let base64URL = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let escaped = "\"" + key.replacingOccurrences(of: "\\", with: "\\\\") + "\""
        var spellings: [String] = [key, key.uppercased(), percentEncoded(key), percentEncoded(key).lowercased()]
        spellings += [base64, Data(("x" + key).utf8).base64EncodedString(), Data(("xy" + key).utf8).base64EncodedString()]
        spellings += [base64URL, "api_key: " + key, String(key.prefix(17)) + ": " + String(key.dropFirst(17))]
        spellings += [String(key.prefix(8)), String(key.prefix(12)), String(key.dropFirst(9).prefix(8))]
        spellings += [String(key.suffix(8)), escaped]
        for spelling in spellings {
            let text = "Invalid api_key. Received \(spelling) (see docs)"
            let redacted = redactor.redact(text)
            #expect(leftover(redacted, key) == nil, "\(spelling) left a run behind: \(redacted)")
            #expect(redacted.contains(SecretRedactor.marker))
            #expect(redacted.hasPrefix("Invalid api_key. Received "))
            #expect(redacted.hasSuffix(" (see docs)"))
        }
    }

    @Test func keepsTextWithoutTheSecret() {
        let text = "Input payload validation failed (name: String is too long) é ✓"
        #expect(redactor.redact(text) == text)
        #expect(redactor.redact(String(key.prefix(7)) + " is short") == String(key.prefix(7)) + " is short")
        #expect(!redactor.finds(in: text))
    }

    @Test func adjacentAndOverlappingRunsBecomeOneMarker() {
        #expect(redactor.redact("a \(key)\(key.uppercased()) b") == "a <redacted> b")
        #expect(redactor.redact("<\(key)>") == "<<redacted>>")
    }

    @Test func escapedQuotationOfAKeyWithALineBreak() {
        let planted = SecretString("hsk-0123456789abcdef\nsecond-line-9f8e")
        let quoted = #"HTTPClientError.invalidHeaderFieldValues(["hsk-0123456789abcdef\nsecond-line-9f8e"])"#
        let redacted = SecretRedactor(secret: planted).redact(quoted)
        #expect(!redacted.contains("0123456789") && !redacted.contains("second-l"), "\(redacted)")
    }

    @Test func ourOwnWordingIsSpared() {
        let key = SecretString("test-api-key-0123456789-SECRET")
        let help = "pass --api-key-file PATH"
        let message = "Check the configured key: \(help). Upstream echoed TEST-API-KEY-0123456789-secret."
        let redacted = SecretRedactor(secret: key, sparing: [help]).redact(message)
        #expect(redacted == "Check the configured key: \(help). Upstream echoed <redacted>.")
        #expect(SecretRedactor(secret: key).redact(help) != help, "without sparing, the help shares a run with the key")
    }

    @Test func shortSecretsAreMatchedWhole() {
        let redactor = SecretRedactor(secret: SecretString("abc12"))
        #expect(redactor.redact("key ABC12 refused") == "key <redacted> refused")
        #expect(redactor.redact("key abc1 refused") == "key abc1 refused")
    }

    @Test func neverSplitsAUnicodeScalar() {
        let redactor = SecretRedactor(secret: SecretString("ключ-0123456789"))
        let redacted = redactor.redact("before ключ-0123456789 after")
        #expect(redacted == "before <redacted> after")
        #expect(!redacted.contains("\u{FFFD}"))
    }

    @Test func bodiesAreRedactedBeforeTheExcerptIsCut() {
        // The key straddles the excerpt's limit: cut first, a prefix of it would survive.
        let padding = String(repeating: "x", count: UpstreamErrorBody.textExcerptLimit - 12)
        let body = UpstreamErrorBody(parsing: Array((padding + key + " tail").utf8), redacting: UpstreamCredentials(apiKey: SecretString(key)))
        let text = body.text ?? ""
        #expect(leftover(text, key) == nil, "\(text)")
        #expect(text.contains(SecretRedactor.marker))
        let unredacted = UpstreamErrorBody(parsing: Array((padding + key).utf8))
        #expect(leftover(unredacted.text ?? "", key) != nil, "the test no longer straddles the cut")
    }

    @Test func jsonBodiesAreRedactedInEveryField() {
        let json = """
            {"message": "bad \(key.uppercased())", "error_reason": "\(percentEncoded(key))",
             "errors": {"api_key": ["\(String(key.prefix(10)))"], "\(key)": "field named after the key"}}
            """
        let body = UpstreamErrorBody(parsing: Array(json.utf8), redacting: UpstreamCredentials(apiKey: SecretString(key)))
        let combined = body.combinedMessage ?? ""
        #expect(leftover(combined, key) == nil, "\(combined)")
        #expect(leftover(body.reason ?? "", key) == nil)
        #expect(combined.contains("field named after the key"))
    }

    @Test func errorsAreRedactedAsALastLineOfDefence() {
        let error = InfrahubError(
            kind: .unreachable, message: "Listing API keys failed: \(key.uppercased().prefix(12))…",
            upstreamMessage: Data(key.utf8).base64EncodedString(), retryable: true)
        let redacted = error.redacting(UpstreamCredentials(apiKey: SecretString(key)))
        #expect(leftover(redacted.message, key) == nil)
        #expect(leftover(redacted.upstreamMessage ?? "", key) == nil)
        #expect(redacted.message.hasPrefix("Listing API keys failed: "))
    }

    @Test func a401NeverQuotesUpstream() {
        let body = UpstreamErrorBody(message: "Invalid api_key abcdefgh", reason: "unauthorized")
        let error = InfrahubError.http(status: 401, body: body, call: .list, attempts: 1, retryAfter: nil)
        #expect(!error.message.contains("Infrahub said"))
        #expect(!error.message.contains("abcdefgh"))
        #expect(error.upstreamMessage == SecretRedactor.marker)
        #expect(error.reason == nil)
        #expect(error.message.contains("HYPERSTACK_API_KEY"))
        let silent = InfrahubError.http(status: 401, body: UpstreamErrorBody(), call: .list, attempts: 1, retryAfter: nil)
        #expect(silent.upstreamMessage == nil)
        let other = InfrahubError.http(status: 400, body: body, call: .list, attempts: 1, retryAfter: nil)
        #expect(other.message.contains("Infrahub said: \"Invalid api_key abcdefgh\""))
    }

    @Test func theKeyFieldIsMarkedSensitiveSoNoDescriptionShowsIt() {
        let headers = InfrahubAPIClient.headers(for: .generate, credential: .apiKey, secret: SecretString(key), version: "1.2.3")
        #expect(headers[fields: .apiKey].map(\.indexingStrategy) == [.disallow])
        #expect(headers[.apiKey] == key)
        let request = InfrahubRequest(
            head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api-key/generate", headerFields: headers))
        #expect(leftover("\(request)", key) == nil)
        #expect(leftover(String(reflecting: request), key) == nil)
    }
}
