import Credentials
import JanssonJSON

/// What Infrahub put in an error response, read leniently because its shape has varied:
/// `{status, message, error_reason}`, a bare `{"message"}`, `{"errors": {field: msg}, "message"}`,
/// or text that is not JSON at all (a proxy's HTML page, say).
struct UpstreamErrorBody: Sendable, Equatable {
    /// One entry of a validation `errors` object.
    struct FieldError: Sendable, Equatable {
        var field: String
        var message: String
    }

    var message: String?
    var reason: String?
    var fieldErrors: [FieldError] = []
    /// A short one-line excerpt when the body was not JSON.
    var text: String?

    /// Longest excerpt of a non-JSON body worth showing a person.
    static let textExcerptLimit = 200

    init(message: String? = nil, reason: String? = nil, fieldErrors: [FieldError] = [], text: String? = nil) {
        self.message = message
        self.reason = reason
        self.fieldErrors = fieldErrors
        self.text = text
    }

    init(parsing body: [UInt8]) {
        self.init(parsing: body, redacting: nil)
    }

    /// Reads `body`, taking every trace of each credential out of each text first: before the
    /// excerpt of a non-JSON body is cut, so that a key straddling the cut leaves no piece behind.
    init(parsing body: [UInt8], redacting credentials: UpstreamCredentials?) {
        guard !body.isEmpty else { return }
        let secrets = credentials?.secrets.filter { !$0.revealed.isEmpty } ?? []
        let redactor = secrets.isEmpty ? nil : SecretRedactor(secrets: secrets)
        func clean(_ text: String?) -> String? { redactor?.redact(text) ?? text }
        guard let json = try? JSON.parse(body) else {
            text = Self.excerpt(redactor.map { Array($0.redact(String(decoding: body, as: UTF8.self)).utf8) } ?? body)
            return
        }
        guard let object = json.objectValue else { return }
        message = clean(
            Self.nonEmptyString(object["message"]) ?? Self.nonEmptyString(object["detail"])
                ?? Self.nonEmptyString(object["error"]))
        reason = clean(Self.nonEmptyString(object["error_reason"]))
        if let errors = object["errors"]?.objectValue {
            for member in errors.members {
                if let text = clean(Self.describe(member.value)) {
                    fieldErrors.append(FieldError(field: clean(member.key) ?? member.key, message: text))
                }
            }
        }
    }

    /// Everything upstream said, as one sentence fragment: `message (field: msg; field: msg)`.
    var combinedMessage: String? {
        let fields = fieldErrors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        switch (message ?? text, fields.isEmpty) {
        case (let main?, true): return main
        case (let main?, false): return "\(main) (\(fields))"
        case (nil, false): return fields
        case (nil, true): return nil
        }
    }

    private static func nonEmptyString(_ value: JSON?) -> String? {
        guard let string = value?.stringValue?.trimmingWhitespace(), !string.isEmpty else { return nil }
        return string
    }

    /// A field's message may be a string, a list of strings, or something else entirely.
    private static func describe(_ value: JSON) -> String? {
        switch value {
        case .string(let text): return text
        case .array(let items):
            let parts = items.compactMap(describe)
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        case .null: return nil
        default: return (try? value.serializedString()) ?? nil
        }
    }

    /// The first line of a textual body, cut short; nil for binary or markup.
    private static func excerpt(_ body: [UInt8]) -> String? {
        let text = String(decoding: body, as: UTF8.self).trimmingWhitespace()
        guard !text.isEmpty, !text.hasPrefix("<"), !text.contains("\u{FFFD}") else { return nil }
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        let printable = String(firstLine.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        guard printable.count > textExcerptLimit else { return printable }
        return String(printable.prefix(textExcerptLimit)) + "…"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }
}
