import JanssonJSON

/// What the server says about itself in `initialize`.
package enum ServerIdentity {
    package static let name = "hyperstack-rpc"

    /// The server's version: `info.version` of `protocol/openrpc.json`, the version's one
    /// source. Read from the embedded document by a scan of its bytes, so that starting up
    /// never parses the whole document; a test checks the scan against a full parse.
    package static let version: String = DocumentVersionScan.infoVersion(in: PackageResources.openrpc_json) ?? "0.0.0"

    /// The `capabilities` member of the `initialize` result.
    package static let capabilities: JSON = [
        "apiKeys": [
            "list": true, "generate": true, "update": true, "delete": true, "watch": true, "didChange": true,
            // apiKeys.generate takes secretFile (clients such as the Emacs helper look for this name).
            "secretFile": true,
        ],
        "framings": ["lsp", "ndjson"],
        "cancellation": true,
        "discover": true,
    ]
}

/// Finds `"info": { ... "version": "X" ... }` in a JSON document's bytes without parsing it:
/// the first `"version"` member after the `"info"` key. Good enough for our own document,
/// whose `info` object comes first and holds no nested object before `version`.
enum DocumentVersionScan {
    static func infoVersion(in bytes: [UInt8]) -> String? {
        guard let info = find(Array(#""info""#.utf8), in: bytes, from: 0),
            let key = find(Array(#""version""#.utf8), in: bytes, from: info)
        else { return nil }
        var index = key + #""version""#.utf8.count
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: ":")
            || bytes[index] == UInt8(ascii: "\n") || bytes[index] == UInt8(ascii: "\t")
        {
            index += 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\"")), end > start else { return nil }
        let value = bytes[start..<end]
        guard !value.contains(UInt8(ascii: "\\")) else { return nil }
        return String(decoding: value, as: UTF8.self)
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
