import HTTPTypes
import InfrahubWire
import Testing

/// Requests and responses reach log lines and test failure messages; the key must not.
@Suite("Descriptions hide secrets")
struct DescriptionRedactionTests {
    static let secret = "wire-test-secret-0123456789"

    static var request: InfrahubRequest {
        var apiKey = HTTPField(name: .apiKey, value: secret)
        apiKey.indexingStrategy = .disallow
        let fields = HTTPFields([apiKey, HTTPField(name: .accept, value: "application/json")])
        return InfrahubRequest(
            head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api-key/generate", headerFields: fields),
            body: Array(#"{"name":"x"}"#.utf8))
    }

    /// Every way Swift turns a value into text.
    static func renderings(_ value: some Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return ["\(value)", String(reflecting: value), dumped]
    }

    @Test func aSensitiveFieldShowsNoValue() {
        for text in Self.renderings(Self.request) {
            #expect(!text.contains(Self.secret), "\(text)")
            #expect(text.contains("api_key"), "\(text)")
        }
        #expect(
            "\(Self.request)" == "POST /api-key/generate [api_key: <redacted>, Accept: application/json], 12-byte body")
    }

    @Test func aResponseBodyShowsOnlyItsSize() {
        let body = Array(#"{"api_key": {"key": "\#(Self.secret)"}}"#.utf8)
        let response = InfrahubResponse(
            head: HTTPResponse(status: .ok, headerFields: [.contentType: "application/json"]), body: body)
        for text in Self.renderings(response) {
            #expect(!text.contains(Self.secret), "\(text)")
        }
        #expect("\(response)" == "HTTP 200 [Content-Type: application/json], \(body.count)-byte body")
    }

    @Test func theKeyStillTravels() {
        #expect(Self.request.head.headerFields[.apiKey] == Self.secret)
    }
}
