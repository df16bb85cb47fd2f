import JanssonJSON

/// What the server says about itself in `initialize`.
public enum ServerIdentity {
    public static let name = "hyperstack-rpc"

    /// The version declared by the embedded protocol document, so the two never drift.
    public static var version: String { ProtocolDocument.version }

    /// The `capabilities` member of the `initialize` result.
    public static let capabilities: JSON = [
        "apiKeys": [
            "list": true, "generate": true, "update": true, "delete": true, "watch": true, "didChange": true,
        ],
        "framings": ["lsp", "ndjson"],
        "cancellation": true,
        "discover": true,
    ]
}
