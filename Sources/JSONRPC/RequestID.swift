import JanssonJSON

/// The id a client gave a request, kept exactly as sent so the response can echo it.
///
/// JSON-RPC allows a string, a number or null; we accept integers only (a real-number
/// id cannot be echoed reliably and the spec discourages it). `null` is a real id:
/// `"id": null` makes a request, while a missing id makes a notification.
package enum RequestID: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(Int64)
    case null

    /// Reads an id from its JSON form; `nil` when the value cannot be an id
    /// (a real number, boolean, array or object).
    package init?(json: JSON) {
        switch json {
        case .string(let value): self = .string(value)
        case .int(let value): self = .number(value)
        case .null: self = .null
        default: return nil
        }
    }

    package var json: JSON {
        switch self {
        case .string(let value): return .string(value)
        case .number(let value): return .int(value)
        case .null: return .null
        }
    }

    /// The id as compact JSON text, ready to splice into a response envelope.
    package func serialized() -> [UInt8] {
        switch self {
        case .number(let value): return Array(String(value).utf8)
        case .null: return Array("null".utf8)
        case .string:
            // A string JSON value always serialises; the fallback is unreachable.
            return (try? json.serialized()) ?? Array("null".utf8)
        }
    }

    package var description: String {
        switch self {
        case .string(let value): return "\"\(value)\""
        case .number(let value): return String(value)
        case .null: return "null"
        }
    }
}
