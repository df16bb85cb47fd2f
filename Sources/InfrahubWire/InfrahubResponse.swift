import HTTPTypes

/// One response from the Infrahub API (or the sandbox), with its whole body.
///
/// The body is collected before the response is handed on: api-key answers are small, and the
/// transport's deadline has to cover the body as well as the head.
package struct InfrahubResponse: Sendable {
    package var head: HTTPResponse
    package var body: [UInt8]

    package init(head: HTTPResponse, body: [UInt8] = []) {
        self.head = head
        self.body = body
    }
}
