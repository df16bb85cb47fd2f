import Logging

/// Makes text safe to put on one log line: upstream answers, request parameters and
/// error texts reach the log, and a raw newline in them would forge a line of its own,
/// a carriage return or an ANSI escape would rewrite what a terminal shows.
///
/// Escaped: backslash (`\\`, so the escaping can be read back unambiguously); `\n`, `\r`,
/// `\t`; every other control character, C0, DEL and C1 (`\u{1B}`); line and paragraph
/// separators, format characters (bidirectional overrides, zero-width marks), surrogates,
/// private-use and unassigned code points (`\u{2028}`). Printable text in any script is
/// kept as it is.
package enum LogLineEscaping {
    package static func escape(_ text: String) -> String {
        // Fast path: printable ASCII without a backslash, which is nearly every line.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if needsEscaping(scalar) {
                    escaped += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) { return true }
        if scalar.isASCII { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return true
        default:
            return false
        }
    }

    /// `key=value` pairs sorted by key, each key and value escaped; `nil` when empty.
    package static func render(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        return metadata.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape("\($0.value)"))" }.joined(separator: " ")
    }

    /// The handler's own metadata, overridden by the event's, plus the error if one was attached
    /// (as swift-log's `StreamLogHandler` does).
    static func merged(_ base: Logger.Metadata, _ event: LogEvent) -> Logger.Metadata {
        var merged = base
        if let extra = event.metadata, !extra.isEmpty { merged.merge(extra) { $1 } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return merged
    }
}
