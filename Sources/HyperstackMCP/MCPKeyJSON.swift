import APIKeyStore
import HyperstackRPCServer
import JanssonJSON

/// The key set as the list tool and the resources show it: masked keys, the revision, when
/// Hyperstack was last asked.
enum MCPKeyJSON {
    static func list(_ outcome: ListOutcome) -> JSON {
        [
            "keys": .array(outcome.snapshot.keys.map(APIKeyEncoding.json)),
            "revision": .int(outcome.snapshot.revision),
            "fetchedAt": .string(outcome.snapshot.fetchedAtRFC3339),
            "fromCache": .bool(outcome.fromCache),
        ]
    }
}
