import HTTPTypes

/// Descriptions of requests and responses that never show a secret.
///
/// A request carries the API key in its `api_key` field, and a generate answer carries the new
/// key in its body; either may reach a log line or a test's failure message through string
/// interpolation, `String(reflecting:)` or `dump`. So a field marked `indexingStrategy =
/// .disallow` (HPACK's "never indexed", i.e. sensitive) shows `<redacted>` for its value, and a
/// body shows only its size.
enum DescriptionRedaction {
    static let marker = "<redacted>"

    /// `Name: value` for each field, secret values replaced by the marker.
    static func fields(_ fields: HTTPFields) -> [String] {
        fields.map { field in
            "\(field.name): \(field.indexingStrategy == .disallow ? marker : field.value)"
        }
    }

    static func body(_ body: [UInt8]?) -> String {
        guard let body else { return "no body" }
        return "\(body.count)-byte body"
    }
}

extension InfrahubRequest: CustomStringConvertible, CustomReflectable {
    /// `GET /api-key [api_key: <redacted>, Accept: application/json], no body`.
    package var description: String {
        let fields = DescriptionRedaction.fields(head.headerFields).joined(separator: ", ")
        return "\(head.method) \(head.path ?? "") [\(fields)], \(DescriptionRedaction.body(body))"
    }

    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "method": head.method.rawValue, "path": head.path ?? "",
                "headerFields": DescriptionRedaction.fields(head.headerFields), "body": DescriptionRedaction.body(body),
            ])
    }
}

extension InfrahubResponse: CustomStringConvertible, CustomReflectable {
    /// `HTTP 200 [Content-Type: application/json], 57-byte body`.
    package var description: String {
        let fields = DescriptionRedaction.fields(head.headerFields).joined(separator: ", ")
        return "HTTP \(head.status.code) [\(fields)], \(DescriptionRedaction.body(body))"
    }

    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "status": head.status.code, "headerFields": DescriptionRedaction.fields(head.headerFields),
                "body": DescriptionRedaction.body(body),
            ])
    }
}
