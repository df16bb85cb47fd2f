import HTTPTypes

/// How this client names itself to Infrahub, as the official SDKs do, so upstream can
/// tell its traffic apart.
enum ClientIdentity {
    static func userAgent(version: String) -> String {
        "hyperstack-rpc/\(version) (Swift; \(operatingSystem))"
    }

    static func clientHeader(version: String) -> String {
        "hyperstack-rpc/\(version)"
    }

    static var operatingSystem: String {
        #if os(Linux)
        return "Linux"
        #elseif os(macOS)
        return "macOS"
        #elseif os(Windows)
        return "Windows"
        #else
        return "unknown"
        #endif
    }
}

extension HTTPField.Name {
    /// The SDKs' client header; the literal is a valid token, so the unwrap cannot fail.
    static let hyperstackClient = Self("Hyperstack-Client")!
}
