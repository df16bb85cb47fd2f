import APIKeyStore
import JSONRPC
import SecureFiles

/// The complete method table of hyperstack-rpc, minus the lifecycle methods the
/// `LSPSession` answers (`initialize`, `shutdown`, `$/ping`, `$/cancelRequest`).
package enum ServerMethods {
    /// What every session over `store` shares: all but `apiKeys.watch`, which belongs to a
    /// session (see `session(_:pollDemand:)`).
    /// - Parameter secretFiles: where `apiKeys.generate {secretFile}` may write secrets.
    package static func table(store: KeyStore, includeTestMethods: Bool, secretFiles: SecretFilePolicy) -> MethodTable {
        var table = MethodTable()
        APIKeyMethods(store: store, secretFiles: secretFiles).register(in: &table)
        ProtocolDocument.register(in: &table)
        if includeTestMethods { TestOnlyMethods.register(in: &table) }
        return table
    }

    /// One session's table: the shared one plus the `apiKeys.watch` that speaks for it.
    package static func session(_ shared: MethodTable, pollDemand: PollDemand) -> MethodTable {
        var table = shared
        APIKeyMethods.registerWatch(in: &table, demand: pollDemand)
        return table
    }
}
