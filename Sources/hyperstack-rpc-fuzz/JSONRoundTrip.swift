import JanssonJSON

/// What JanssonJSON promises for any input: parsing never crashes; whatever parses
/// serialises to compact ASCII without raw newlines, parses back to an equal value, and
/// serialises again to the same bytes.
func checkJSONRoundTrip(_ bytes: [UInt8]) {
    let value: JSON
    do {
        value = try JSON.parse(bytes)
    } catch {
        _ = try? JSON.parse(bytes, options: JSONParseOptions(maxDepth: 4, rejectDuplicateKeys: true))
        return
    }
    let text: [UInt8]
    do {
        text = try value.serialized()
    } catch {
        require(false, "a parsed value failed to serialise: \(error)")
        return
    }
    require(text.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") },
        "serialised JSON holds a non-ASCII byte or a raw line break: \(excerpt(text))")
    let again: JSON
    do {
        again = try JSON.parse(text)
    } catch {
        require(false, "serialised JSON does not parse back (\(error)): \(excerpt(text))")
        return
    }
    require(again == value, "the round trip changed the value: \(excerpt(text))")
    require((try? again.serialized()) == text, "serialising twice gave different bytes: \(excerpt(text))")
    if let strict = try? JSON.parse(bytes, options: JSONParseOptions(maxDepth: 256, rejectDuplicateKeys: true)) {
        require(strict == value, "rejecting duplicate keys changed a value that has none: \(excerpt(text))")
    }
}
