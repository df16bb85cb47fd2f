import HTTPTypes

/// One request to the Infrahub API: the HTTP head and the body, independent of how it is carried.
///
/// The head's `path` is relative to the base URL (`/api-key`, `/api-key/12`, `/api-key/generate`)
/// and its scheme and authority are not used, so the same request can go over the network or
/// into the embedded sandbox. swift-http-types has no body type, hence this pair.
package struct InfrahubRequest: Sendable {
    package var head: HTTPRequest
    package var body: [UInt8]?

    package init(head: HTTPRequest, body: [UInt8]? = nil) {
        self.head = head
        self.body = body
    }
}
