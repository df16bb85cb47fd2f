/// A problem in the byte stream itself, found before any JSON is parsed. The framer
/// reports it and carries on with the next message it can find.
package enum FramingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A message larger than the limit. Its bytes were skipped, never buffered.
    /// `declaredLength` is the `Content-Length` for LSP, `nil` for an NDJSON line.
    case oversized(declaredLength: Int?, limit: Int)
    /// An LSP header that cannot be used: no or a bad `Content-Length`, a malformed line.
    case invalidHeader(String)
    /// An LSP header line or block longer than the limit.
    case headerTooLong(limit: Int)

    package var description: String {
        switch self {
        case .oversized(let declared?, let limit):
            return "the message is \(declared) bytes long, more than the limit of \(limit) bytes; it was skipped"
        case .oversized(nil, let limit):
            return "a line is longer than the limit of \(limit) bytes; it was skipped"
        case .invalidHeader(let reason):
            return "invalid message header: \(reason); skipping to the next Content-Length header"
        case .headerTooLong(let limit):
            return "the message header is longer than \(limit) bytes; skipping to the next Content-Length header"
        }
    }
}
