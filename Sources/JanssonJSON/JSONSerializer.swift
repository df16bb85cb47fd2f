import CJansson

/// Why a value could not be serialised. JSON has no NaN or infinity.
package struct JSONSerializationError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

extension JSON {
    /// Serialises compactly, escaping everything outside ASCII, so the output never
    /// holds a raw newline, U+2028 or U+2029 and can be framed as one line.
    package func serialized() throws(JSONSerializationError) -> [UInt8] {
        let node = try makeNode()
        defer { cjansson_decref(node) }
        let sink = ByteSink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let status = json_dump_callback(node, { buffer, size, data in
            guard let buffer, let data else { return -1 }
            let sink = Unmanaged<ByteSink>.fromOpaque(data).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: size))
            return 0
        }, context, CJANSSON_ENCODE_FLAGS)
        withExtendedLifetime(sink) {}
        guard status == 0 else { throw JSONSerializationError(message: "Jansson could not serialise the value") }
        return sink.bytes
    }

    /// The serialised text as a `String`; handy for logs and tests.
    package func serializedString() throws(JSONSerializationError) -> String {
        String(decoding: try serialized(), as: UTF8.self)
    }

    /// Builds a new Jansson tree that the caller owns (one reference).
    private func makeNode() throws(JSONSerializationError) -> UnsafeMutablePointer<json_t> {
        let node: UnsafeMutablePointer<json_t>?
        switch self {
        case .null: node = json_null()
        case .bool(let value): node = value ? json_true() : json_false()
        case .int(let value): node = json_integer(json_int_t(value))
        case .double(let value):
            guard value.isFinite else {
                throw JSONSerializationError(message: "\(value) cannot be represented in JSON")
            }
            node = json_real(value)
        case .string(let value):
            var copy = value
            node = copy.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { json_stringn_nocheck($0.baseAddress, $0.count) }
            }
        case .array(let elements):
            guard let array = json_array() else { throw outOfMemory }
            for element in elements {
                let child: UnsafeMutablePointer<json_t>
                do { child = try element.makeNode() } catch { cjansson_decref(array); throw error }
                json_array_append_new(array, child)
            }
            node = array
        case .object(let object):
            guard let container = json_object() else { throw outOfMemory }
            for member in object.members {
                let child: UnsafeMutablePointer<json_t>
                do { child = try member.value.makeNode() } catch { cjansson_decref(container); throw error }
                var key = member.key
                key.withUTF8 { utf8 in
                    utf8.withMemoryRebound(to: CChar.self) { pointer in
                        _ = json_object_setn_new_nocheck(container, pointer.baseAddress, pointer.count, child)
                    }
                }
            }
            node = container
        }
        guard let node else { throw outOfMemory }
        return node
    }

    private var outOfMemory: JSONSerializationError {
        JSONSerializationError(message: "Jansson could not allocate a value")
    }
}

/// Collects Jansson's output chunks. Used only on the serialising thread, within one call.
private final class ByteSink {
    var bytes: [UInt8] = []
    init() { bytes.reserveCapacity(256) }
}
