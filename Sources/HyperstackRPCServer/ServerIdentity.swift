import JanssonJSON

/// What the server says about itself in `initialize`.
public enum ServerIdentity {
    public static let name = "hyperstack-rpc"

    /// The server's version. A test keeps it equal to the version `protocol/openrpc.json`
    /// declares; it is a constant so that starting up never parses the document.
    public static let version = "0.1.0"

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
