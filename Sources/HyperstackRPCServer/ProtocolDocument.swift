import JSONRPC
import JanssonJSON

/// The OpenRPC description of this server, from `protocol/openrpc.json`, served by `rpc.discover`.
///
/// The file is embedded at build time; it is parsed once with Jansson and kept in its
/// compact serialised form, which is what goes on the wire.
package enum ProtocolDocument {
    /// The parsed document.
    package static let json: JSON = {
        do {
            return try JSON.parse(PackageResources.openrpc_json)
        } catch {
            preconditionFailure("protocol/openrpc.json is not valid JSON: \(error)")
        }
    }()

    static let serialized: [UInt8] = {
        do {
            return try json.serialized()
        } catch {
            preconditionFailure("protocol/openrpc.json cannot be serialised: \(error)")
        }
    }()

    /// The version the document declares, which is the server's version.
    package static var version: String { json["info"]?["version"]?.stringValue ?? "0.0.0" }

    /// Adds `rpc.discover`.
    package static func register(in table: inout MethodTable) {
        table.register("rpc.discover") { _, _ in .serialized(serialized) }
    }
}
