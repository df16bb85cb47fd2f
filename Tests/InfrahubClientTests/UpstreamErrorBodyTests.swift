import Testing

@testable import InfrahubClient

@Suite("Error bodies")
struct UpstreamErrorBodyTests {
    private func parse(_ text: String) -> UpstreamErrorBody { UpstreamErrorBody(parsing: Array(text.utf8)) }

    @Test func standardShape() {
        let body = parse(#"{"status": false, "message": "Maximum API key limit reached", "error_reason": "forbidden"}"#)
        #expect(body.message == "Maximum API key limit reached")
        #expect(body.reason == "forbidden")
        #expect(body.combinedMessage == "Maximum API key limit reached")
    }

    @Test func bareMessage() {
        let body = parse(#"{"message": "Internal Server Error"}"#)
        #expect(body == UpstreamErrorBody(message: "Internal Server Error"))
    }

    @Test func fieldErrorsAreFoldedIn() {
        let body = parse(
            #"{"errors": {"name": "Name is too long", "description": ["bad", "worse"]}, "message": "Input payload validation failed"}"#)
        #expect(body.fieldErrors.count == 2)
        #expect(body.combinedMessage == "Input payload validation failed (name: Name is too long; description: bad, worse)")
    }

    @Test func fieldErrorsWithoutMessage() {
        #expect(parse(#"{"errors": {"name": "required"}}"#).combinedMessage == "name: required")
    }

    @Test func plainTextIsExcerpted() {
        #expect(parse("upstream connect error\nmore detail").combinedMessage == "upstream connect error")
        let long = String(repeating: "x", count: 500)
        #expect(parse(long).text?.count == UpstreamErrorBody.textExcerptLimit + 1)
    }

    @Test func markupAndEmptyBodiesSayNothing() {
        #expect(parse("<html><body>502 Bad Gateway</body></html>").combinedMessage == nil)
        #expect(parse("").combinedMessage == nil)
        #expect(parse("[1,2]").combinedMessage == nil)
        #expect(parse(#"{"message": "   "}"#).combinedMessage == nil)
    }
}
