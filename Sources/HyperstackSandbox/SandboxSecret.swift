import Crypto

/// Makes, masks and hashes API-key secrets the way upstream presents them.
enum SandboxSecret {
    /// A random version-4 UUID in lower case, the form upstream's secrets take.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = hexString(bytes)
        let cuts = [8, 12, 16, 20]
        var result = ""
        for (offset, character) in hex.enumerated() {
            if cuts.contains(offset) { result.append("-") }
            result.append(character)
        }
        return result
    }

    /// `********-****-****-****-********be9a`: the list view of a key.
    static func masked(lastFour: String) -> String {
        "********-****-****-****-********" + lastFour
    }

    /// The last four characters, all that is kept of a secret besides its hash.
    static func lastFour(of secret: String) -> String {
        String(secret.suffix(4))
    }

    /// Hex SHA-256 of the secret's UTF-8 bytes: lets the sandbox recognise a secret
    /// without storing it.
    static func hash(_ secret: String) -> String {
        hexString(Array(SHA256.hash(data: Array(secret.utf8))))
    }

    private static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var result = ""
        result.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0x0F)])
        }
        return result
    }
}
