/// Reads what a forwarder must know of a client's message (its `id` and `method`) from the
/// top level of its bytes, skipping every other value unparsed. A full parse of each
/// request was half the forwarder's work per request.
///
/// It answers only when sure: a single object whose `id` is a plain integer or a string of
/// printable ASCII without escapes (so that its bytes are exactly what the daemon writes back,
/// `RequestID.serialized()`), and whose `method` is such a string. Anything else (escapes,
/// other id forms, duplicate keys, batches, malformed text) is `.unsure`, and the caller
/// parses in full.
enum RequestPeek: Equatable {
    case request(id: WireID, method: String)
    case notification(method: String)
    case unsure

    init(_ body: UnsafeRawBufferPointer) {
        var scanner = Scanner(bytes: body)
        self = scanner.topLevel() ?? .unsure
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        mutating func topLevel() -> RequestPeek? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var id: WireID?
            var method: String?
            skipSpace()
            if take(UInt8(ascii: "}")) { return nil }
            while true {
                skipSpace()
                guard let key = plainString() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                if key.elementsEqual("id".utf8) {
                    guard id == nil, let token = idToken() else { return nil }
                    id = token
                } else if key.elementsEqual("method".utf8) {
                    guard method == nil, let name = plainString() else { return nil }
                    method = String(decoding: name, as: UTF8.self)
                } else {
                    guard skipValue(depth: 0) else { return nil }
                }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                break
            }
            skipSpace()
            guard index == bytes.count, let method else { return nil }
            if let id { return .request(id: id, method: method) }
            return .notification(method: method)
        }

        /// A string of printable ASCII with no escapes; its contents, without the quotes.
        mutating func plainString() -> UnsafeRawBufferPointer.SubSequence? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    defer { index += 1 }
                    return bytes[start..<index]
                }
                guard byte >= 0x20, byte < 0x7f, byte != UInt8(ascii: "\\") else { return nil }
                index += 1
            }
            return nil
        }

        /// A plain integer of at most 18 digits (so it fits `Int64`, as the daemon reads it),
        /// or a plain string with its quotes.
        mutating func idToken() -> WireID? {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                guard plainString() != nil else { return nil }
                return Array(bytes[start..<index])
            }
            _ = take(UInt8(ascii: "-"))
            let digitsStart = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            let digits = index - digitsStart
            guard digits > 0, digits <= 18, !(digits > 1 && bytes[digitsStart] == UInt8(ascii: "0")) else { return nil }
            if index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil  // not an integer
                default: break
                }
            }
            // "-0" reads as 0, whose answer would carry "0".
            if index - start == 2, bytes[start] == UInt8(ascii: "-"), bytes[digitsStart] == UInt8(ascii: "0") { return nil }
            return Array(bytes[start..<index])
        }

        /// Skips one value of any kind, nested up to a depth the parser would accept.
        mutating func skipValue(depth: Int) -> Bool {
            guard depth < 64, index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "\\"): index += 2
                    case UInt8(ascii: "\""):
                        index += 1
                        return true
                    default: index += 1
                    }
                }
                return false
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                index += 1
                skipSpace()
                if take(close) { return true }
                while true {
                    skipSpace()
                    if isObject {
                        guard skipValue(depth: depth + 1) else { return false }  // the key
                        skipSpace()
                        guard take(UInt8(ascii: ":")) else { return false }
                        skipSpace()
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipSpace()
                    if take(UInt8(ascii: ",")) { continue }
                    return take(close)
                }
            default:
                // A number or a literal: up to the next delimiter.
                let start = index
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\t"),
                        UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                        return index > start
                    default: index += 1
                    }
                }
                return index > start
            }
        }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
    }
}
