/// A secret that must never be logged: its descriptions are redacted.
///
/// Used both for the API key we authenticate with and for secrets that generate returns.
package struct SecretString: Sendable, Equatable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The raw secret. Read it only to put it on the wire or hand it to the caller.
    package let revealed: String

    package init(_ revealed: String) { self.revealed = revealed }

    package var description: String { "<redacted>" }
    package var debugDescription: String { "<redacted>" }
}
