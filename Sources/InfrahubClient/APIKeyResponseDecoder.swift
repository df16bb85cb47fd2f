import Credentials
import InfrahubWire
import JanssonJSON

/// Turns Infrahub's 2xx bodies into records, tolerating extra fields and the small
/// variations upstream has shipped, but refusing bodies that lack what callers rely on.
enum APIKeyResponseDecoder {
    /// Why a 2xx body could not be used.
    enum Failure: Error, Sendable, Equatable {
        /// The body is not what the contract promises; the text says what is missing.
        case malformed(String)
        /// A 2xx that nevertheless says `"status": false`.
        case refused(UpstreamErrorBody)
    }

    /// `{status, message, api_keys: [...]}`; the keys in it are masked upstream (and here, if not).
    static func decodeList(_ body: [UInt8]) throws(Failure) -> [APIKeyRecord] {
        let object = try envelope(body)
        guard let items = object["api_keys"]?.arrayValue else {
            throw .malformed("it has no `api_keys` list")
        }
        var records: [APIKeyRecord] = []
        records.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard let fields = item.objectValue else { throw .malformed("entry \(index) of `api_keys` is not an object") }
            var record = try decodeRecord(fields, context: "entry \(index) of `api_keys`")
            // Masked upstream, as documented; should a full secret come instead, mask it as update does.
            record.maskedKey = nonEmptyString(fields["key"]).map(APIKeyMasking.maskedForm(ofUpstreamKey:))
            records.append(record)
        }
        return records
    }

    /// `{status, message, api_key: {...}}` where `key` is the full secret, shown this once.
    static func decodeGenerated(_ body: [UInt8]) throws(Failure) -> GeneratedAPIKey {
        let object = try envelope(body)
        guard let fields = object["api_key"]?.objectValue else { throw .malformed("it has no `api_key` object") }
        var record = try decodeRecord(fields, context: "`api_key`")
        guard let secretText = nonEmptyString(fields["key"]) else {
            throw .malformed("`api_key` carries no `key`, so the new key's secret is unknown")
        }
        let secret = SecretString(secretText)
        record.maskedKey = APIKeyMasking.mask(secret)
        return GeneratedAPIKey(record: record, secret: secret)
    }

    /// `{status, message, api_key: {...}}` after an update; any `key` in it is kept as the masked form.
    static func decodeUpdated(_ body: [UInt8]) throws(Failure) -> APIKeyRecord {
        let object = try envelope(body)
        guard let fields = object["api_key"]?.objectValue else { throw .malformed("it has no `api_key` object") }
        var record = try decodeRecord(fields, context: "`api_key`")
        if let key = nonEmptyString(fields["key"]) {
            // Should upstream ever echo the full secret here, mask it rather than pass it on.
            record.maskedKey = APIKeyMasking.maskedForm(ofUpstreamKey: key)
        }
        return record
    }

    /// `{status, message}`; an empty body is accepted too, since there is nothing to read.
    static func decodeDeleted(_ body: [UInt8]) throws(Failure) {
        guard !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return }
        _ = try envelope(body)
    }

    /// Parses the outer object and rejects `"status": false`.
    private static func envelope(_ body: [UInt8]) throws(Failure) -> JSONObject {
        let json: JSON
        do {
            json = try JSON.parse(body)
        } catch {
            throw .malformed("it is not JSON (\(error.message) at line \(error.line), column \(error.column))")
        }
        guard let object = json.objectValue else { throw .malformed("it is a JSON \(json.typeName), not an object") }
        if object["status"]?.boolValue == false {
            throw .refused(UpstreamErrorBody(parsing: body))
        }
        return object
    }

    private static func decodeRecord(_ fields: JSONObject, context: String) throws(Failure) -> APIKeyRecord {
        guard let id = integer(fields["id"]) else { throw .malformed("\(context) has no integer `id`") }
        guard let name = fields["name"]?.stringValue else { throw .malformed("\(context) has no `name`") }
        let description = fields["description"]?.stringValue
        let createdAt = fields["created_at"]?.stringValue.flatMap(InfrahubTimestamp.normalize)
        return APIKeyRecord(id: id, name: name, description: description, createdAt: createdAt)
    }

    /// An id sent as a number, an integral float, or a string of digits.
    private static func integer(_ value: JSON?) -> Int64? {
        switch value {
        case .int(let number)?: return number
        case .double(let number)? where number.rounded() == number && abs(number) < 9e15: return Int64(number)
        case .string(let text)?: return Int64(text.trimmingWhitespace())
        default: return nil
        }
    }

    private static func nonEmptyString(_ value: JSON?) -> String? {
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        return text
    }
}
