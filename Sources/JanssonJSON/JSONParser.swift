import CJansson

/// Why a text could not be parsed as JSON, with the position Jansson reported.
package struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package var line: Int
    package var column: Int
    /// Byte offset into the input.
    package var position: Int

    package var description: String {
        line > 0 ? "\(message) (line \(line), column \(column))" : message
    }
}

/// Limits applied while parsing, so hostile input is an error rather than a crash.
package struct JSONParseOptions: Sendable {
    /// Deepest nesting of arrays and objects accepted. Jansson stops at 2048 on its own;
    /// we stop well before, so converting to Swift values never recurses deeply.
    package var maxDepth: Int
    /// Reject objects that name the same key twice, instead of keeping the last.
    package var rejectDuplicateKeys: Bool

    package init(maxDepth: Int = 256, rejectDuplicateKeys: Bool = false) {
        self.maxDepth = maxDepth
        self.rejectDuplicateKeys = rejectDuplicateKeys
    }

    package static let `default` = JSONParseOptions()
}

extension JSON {
    /// Parses one JSON text (any value, not only objects and arrays) from UTF-8 bytes.
    package static func parse(
        _ bytes: UnsafeRawBufferPointer, options: JSONParseOptions = .default
    ) throws(JSONParseError) -> JSON {
        var error = json_error_t()
        let flags = options.rejectDuplicateKeys
            ? CJANSSON_DECODE_FLAGS_REJECT_DUPLICATES : CJANSSON_DECODE_FLAGS
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        // Jansson wants a non-null pointer even for empty input.
        let root: UnsafeMutablePointer<json_t>? = withUnsafePointer(to: CChar(0)) { empty in
            json_loadb(base ?? empty, bytes.count, flags, &error)
        }
        guard let root else {
            let text = withUnsafePointer(to: &error) { String(cString: cjansson_error_text($0)) }
            throw JSONParseError(
                message: Self.withoutQuotedInput(text),
                line: Int(error.line), column: Int(error.column), position: Int(error.position))
        }
        defer { cjansson_decref(root) }
        return try convert(root, depth: 0, maxDepth: options.maxDepth)
    }

    /// Parses one JSON text from a byte collection.
    package static func parse(
        _ bytes: some Collection<UInt8>, options: JSONParseOptions = .default
    ) throws(JSONParseError) -> JSON {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            Result<JSON, JSONParseError> { () throws(JSONParseError) -> JSON in
                try parse(UnsafeRawBufferPointer(buffer), options: options)
            }
        }) {
            return try result.get()
        }
        let copied = Array(bytes).withUnsafeBytes { buffer in
            Result<JSON, JSONParseError> { () throws(JSONParseError) -> JSON in
                try parse(buffer, options: options)
            }
        }
        return try copied.get()
    }

    /// Parses one JSON text from a string.
    package static func parse(_ text: String, options: JSONParseOptions = .default) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8), options: options)
    }

    private static func convert(_ node: UnsafeMutablePointer<json_t>, depth: Int, maxDepth: Int) throws(JSONParseError) -> JSON {
        switch cjansson_typeof(node) {
        case JSON_NULL: return .null
        case JSON_TRUE: return .bool(true)
        case JSON_FALSE: return .bool(false)
        case JSON_INTEGER: return .int(Int64(json_integer_value(node)))
        case JSON_REAL: return .double(json_real_value(node))
        case JSON_STRING:
            let length = json_string_length(node)
            guard let pointer = json_string_value(node) else { return .string("") }
            let buffer = UnsafeRawBufferPointer(start: pointer, count: length)
            return .string(String(decoding: buffer, as: UTF8.self))
        case JSON_ARRAY:
            guard depth < maxDepth else { throw tooDeep(maxDepth) }
            let count = json_array_size(node)
            var elements: [JSON] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                guard let child = json_array_get(node, index) else { continue }
                elements.append(try convert(child, depth: depth + 1, maxDepth: maxDepth))
            }
            return .array(elements)
        case JSON_OBJECT:
            guard depth < maxDepth else { throw tooDeep(maxDepth) }
            var object = JSONObject(capacity: json_object_size(node))
            var iterator = cjansson_object_iter(node)
            while let current = iterator {
                let keyLength = cjansson_object_iter_key_len(current)
                let key = cjansson_object_iter_key(current).map {
                    String(decoding: UnsafeRawBufferPointer(start: $0, count: keyLength), as: UTF8.self)
                } ?? ""
                if let child = cjansson_object_iter_value(current) {
                    object.appendUnchecked(key: key, value: try convert(child, depth: depth + 1, maxDepth: maxDepth))
                }
                iterator = cjansson_object_iter_next(node, current)
            }
            return .object(object)
        default:
            throw JSONParseError(message: "unknown JSON value type", line: 0, column: 0, position: 0)
        }
    }

    /// Jansson ends many messages with `near '<token>'`, quoting the input. The input may
    /// hold a secret (a malformed request carrying an API key), and parse errors are logged
    /// and sent back, so the quote is dropped; line and column still say where.
    static func withoutQuotedInput(_ text: String) -> String {
        guard let range = text.firstRange(of: " near '") else { return text }
        return String(text[..<range.lowerBound])
    }

    private static func tooDeep(_ maxDepth: Int) -> JSONParseError {
        JSONParseError(message: "nesting deeper than \(maxDepth) levels", line: 0, column: 0, position: 0)
    }
}
