import HTTPTypes

/// One response from the Infrahub API (or the sandbox), with its whole body.
///
/// The body is collected before the response is handed on: api-key answers are small, and the
/// transport's deadline has to cover the body as well as the head.
public struct InfrahubResponse: Sendable {
    public var head: HTTPResponse
    public var body: [UInt8]

    public init(head: HTTPResponse, body: [UInt8] = []) {
        self.head = head
        self.body = body
    }
}
