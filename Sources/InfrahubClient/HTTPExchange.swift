/// One HTTP request to the Infrahub API, independent of how it is carried.
///
/// `path` is relative to the base URL (`/api-key`, `/api-key/12`, `/api-key/generate`),
/// so the same request can go over the network or into the embedded sandbox.
public struct InfrahubHTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: HTTPHeaderList
    public var body: [UInt8]?

    public init(method: String, path: String, headers: HTTPHeaderList = [], body: [UInt8]? = nil) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// One HTTP response, as the transport received it.
public struct InfrahubHTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaderList
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaderList = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// An ordered list of header fields whose names compare case-insensitively.
public struct HTTPHeaderList: Sendable, Equatable, Sequence, ExpressibleByArrayLiteral {
    /// One header field.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init(_ fields: [Field] = []) { self.fields = fields }

    public init(arrayLiteral elements: (String, String)...) {
        fields = elements.map { Field(name: $0.0, value: $0.1) }
    }

    /// The first value for `name`, compared case-insensitively.
    public subscript(name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Replaces every field called `name` with one holding `value`.
    public mutating func replace(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        let wanted = name.lowercased()
        fields.removeAll { $0.name.lowercased() == wanted }
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}

/// How carrying a request failed before a complete, usable HTTP response arrived.
///
/// The distinction matters for retries: only `connectionRefused` proves the request
/// never reached the server, so only it makes a non-idempotent call safe to repeat; and
/// `responseTimedOut`, `unusableResponse` and `invalidRequest` are never repeated, because a
/// repeat would fail the same way and only multiply the caller's wait. Every `detail` is our
/// own fixed text, never a library error's description (which may quote header values, the
/// API key among them).
public enum TransportFailure: Error, Sendable, Equatable {
    /// The connection could not be opened; the server never saw the request.
    case connectionRefused(String)
    /// No answer within the timeout; the server may have acted on the request.
    case timedOut(String)
    /// The status and headers arrived, but the body did not complete within the timeout (it
    /// trickled, or went idle). The server is up but its answer is not coming: not retried.
    case responseTimedOut(String)
    /// The connection broke after the request may have been sent.
    case connectionLost(String)
    /// An answer arrived that cannot be used however often it is asked for, such as a body over
    /// the size limit (mapped to 1502, not retried).
    case unusableResponse(String)
    /// The request cannot be sent as it is, e.g. a header value that is not valid HTTP or a base
    /// URL the client cannot use. Nothing reached the server; a repeat fails the same way.
    case invalidRequest(String)
    /// Anything else (TLS failure, an answer that is not HTTP, ...).
    case other(String)

    public var detail: String {
        switch self {
        case .connectionRefused(let detail), .timedOut(let detail), .responseTimedOut(let detail),
            .connectionLost(let detail), .unusableResponse(let detail), .invalidRequest(let detail),
            .other(let detail):
            return detail
        }
    }

    /// Whether the request provably never reached the server, so that even a generate may be repeated.
    public var neverSent: Bool {
        switch self {
        case .connectionRefused, .invalidRequest: return true
        case .timedOut, .responseTimedOut, .connectionLost, .unusableResponse, .other: return false
        }
    }

    /// Whether sending the same request again is pointless: it would fail the same way, or
    /// (a stalled body) only make the caller wait another full timeout for the same server.
    public var isFinal: Bool {
        switch self {
        case .responseTimedOut, .unusableResponse, .invalidRequest: return true
        case .connectionRefused, .timedOut, .connectionLost, .other: return false
        }
    }
}

/// Carries Infrahub requests: over HTTP in production, into the sandbox when embedded.
///
/// Implementations throw only `TransportFailure`; any HTTP status, including errors,
/// comes back as a response.
public protocol InfrahubTransport: Sendable {
    func send(_ request: InfrahubHTTPRequest, timeout: Duration) async throws -> InfrahubHTTPResponse
}
