import APIKeyStore
import JSONRPC

/// The complete method table of hyperstack-rpc, minus the lifecycle methods the
/// `LSPSession` answers (`initialize`, `shutdown`, `$/ping`, `$/cancelRequest`).
package enum ServerMethods {
    package static func table(store: KeyStore, includeTestMethods: Bool) -> MethodTable {
        var table = MethodTable()
        APIKeyMethods(store: store).register(in: &table)
        ProtocolDocument.register(in: &table)
        if includeTestMethods { TestOnlyMethods.register(in: &table) }
        return table
    }
}
