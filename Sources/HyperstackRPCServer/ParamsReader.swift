import InfrahubClient
import JSONRPC
import JanssonJSON

/// Reads by-name params and turns every mistake into a -32602 that names the field.
///
/// All validation happens here, before any upstream call, so a bad request never
/// costs an HTTP round trip. Unknown members are ignored, as LSP servers do, so newer
/// clients keep working against older servers.
package struct ParamsReader {
    private let object: JSONObject

    /// Accepts an object or absent params; positional (array) params are refused.
    package init(_ params: JSON?, method: String) throws(RPCError) {
        switch params {
        case nil, .null?:
            object = [:]
        case .object(let members)?:
            object = members
        case .array?:
            throw RPCError.invalidParams(
                field: "params", reason: "\(method) takes its params by name, as an object, not as an array")
        case let other?:
            throw RPCError.invalidParams(field: "params", reason: "must be an object, not \(other.typeName)")
        }
    }

    /// Refuses members other than `allowed`, for callers whose schema says
    /// `additionalProperties: false` (MCP's tools); JSON-RPC methods ignore unknown members.
    package func rejectUnknown(allowed: Set<String>) throws(RPCError) {
        if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            let known = allowed.sorted().joined(separator: ", ")
            throw RPCError.invalidParams(field: unknown, reason: "is not an argument of this call (it takes: \(known))")
        }
    }

    /// A string of 1 to 200 characters, as upstream requires for key names.
    package func keyName(_ field: String) throws(RPCError) -> String {
        guard let value = object[field], !value.isNull else {
            throw RPCError.invalidParams(field: field, reason: "is required")
        }
        guard let name = value.stringValue else {
            throw RPCError.invalidParams(field: field, reason: "must be a string, not \(value.typeName)")
        }
        let length = name.unicodeScalars.count
        guard length >= 1 else { throw RPCError.invalidParams(field: field, reason: "must not be empty") }
        guard length <= 200 else {
            throw RPCError.invalidParams(field: field, reason: "must be at most 200 characters, not \(length)")
        }
        return name
    }

    /// An optional string; absent and `null` both mean "no value".
    package func optionalString(_ field: String) throws(RPCError) -> String? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let string = value.stringValue else {
            throw RPCError.invalidParams(field: field, reason: "must be a string or null, not \(value.typeName)")
        }
        return string
    }

    /// The description member of an update: absent keeps it, `null` clears it.
    package func descriptionUpdate(_ field: String) throws(RPCError) -> DescriptionUpdate {
        guard let value = object[field] else { return .keep }
        if value.isNull { return .clear }
        guard let string = value.stringValue else {
            throw RPCError.invalidParams(field: field, reason: "must be a string or null, not \(value.typeName)")
        }
        return .set(string)
    }

    /// A key id: any 64-bit integer.
    ///
    /// Every id `apiKeys.list` can return is accepted, zero and negative ones included: upstream
    /// decides which ids exist, and a key we refused here could never be renamed or removed.
    package func keyID(_ field: String) throws(RPCError) -> Int64 {
        guard let value = object[field], !value.isNull else {
            throw RPCError.invalidParams(field: field, reason: "is required")
        }
        guard let id = value.intValue else {
            throw RPCError.invalidParams(field: field, reason: "must be an integer, not \(value.typeName)")
        }
        return id
    }

    package func optionalBool(_ field: String) throws(RPCError) -> Bool? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let bool = value.boolValue else {
            throw RPCError.invalidParams(field: field, reason: "must be a boolean, not \(value.typeName)")
        }
        return bool
    }

    /// A finite, non-negative number of seconds.
    package func optionalSeconds(_ field: String) throws(RPCError) -> Double? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let seconds = value.numberValue else {
            throw RPCError.invalidParams(field: field, reason: "must be a number of seconds, not \(value.typeName)")
        }
        guard seconds.isFinite, seconds >= 0 else {
            throw RPCError.invalidParams(field: field, reason: "must be zero or more seconds")
        }
        guard seconds <= 31_536_000 else {
            throw RPCError.invalidParams(field: field, reason: "must be at most one year (31536000 seconds)")
        }
        return seconds
    }

    package func requiredSeconds(_ field: String) throws(RPCError) -> Double {
        guard let seconds = try optionalSeconds(field) else {
            throw RPCError.invalidParams(field: field, reason: "is required")
        }
        return seconds
    }

    package func optionalInteger(_ field: String, in range: ClosedRange<Int64>) throws(RPCError) -> Int64? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let integer = value.intValue else {
            throw RPCError.invalidParams(field: field, reason: "must be an integer, not \(value.typeName)")
        }
        guard range.contains(integer) else {
            throw RPCError.invalidParams(
                field: field, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return integer
    }
}

extension Duration {
    /// A duration from a number of seconds that ParamsReader already checked.
    init(checkedSeconds seconds: Double) {
        self = .nanoseconds(Int64((seconds * 1_000_000_000).rounded()))
    }
}
