/// Where an API key was loaded from, so that a refusal can name the source without quoting the key.
package enum CredentialSource: Sendable, Equatable, CustomStringConvertible {
    /// An environment variable, e.g. `HYPERSTACK_API_KEY`.
    case environment(variable: String)
    /// A file given with `--api-key-file`.
    case file(path: String)
    /// `initialize`'s `initializationOptions.apiKey`.
    case initializationOptions
    /// A forwarder's hello to the shared daemon, which carries the key it loaded.
    case daemonHello

    /// "the API key in HYPERSTACK_API_KEY", as a message starts.
    package var description: String {
        switch self {
        case .environment(let variable): return "the API key in \(variable)"
        case .file(let path): return "the API key file \(path)"
        case .initializationOptions: return "initializationOptions.apiKey"
        case .daemonHello: return "the API key a forwarder sent"
        }
    }

    /// A key file may end in one newline, since editors and `echo` add one; nothing else may.
    var allowsTrailingNewline: Bool {
        if case .file = self { return true }
        return false
    }
}

/// Why a credential was refused when it was loaded. The description names the source and the
/// kind of problem, never the key: the key must not appear in messages, logs or crash output.
///
/// Refusing at load time is the mechanism: a key with a line break or a NUL in it would be
/// refused by the HTTP library later anyway, but in an error that quotes the whole header.
package struct CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the key, in words that say nothing about the key's characters
    /// beyond the offending kind.
    package enum Problem: Sendable, Equatable {
        case empty
        case moreThanOneLine
        case nul
        case controlCharacter
        case space
        case nonASCII
    }

    package var source: CredentialSource
    package var problem: Problem

    package init(source: CredentialSource, problem: Problem) {
        self.source = source
        self.problem = problem
    }

    /// The part after the source: what is wrong.
    package var reason: String {
        let rule = "a Hyperstack API key is one line of visible ASCII characters"
        switch problem {
        case .empty: return "is empty; \(rule)"
        case .moreThanOneLine:
            return source.allowsTrailingNewline
                ? "holds more than one line; \(rule), optionally followed by one newline"
                : "contains a line break; \(rule)"
        case .nul: return "contains a NUL byte; \(rule)"
        case .controlCharacter: return "contains a control character (such as a tab or an escape); \(rule)"
        case .space: return "contains a space; \(rule)"
        case .nonASCII: return "contains a character outside ASCII; \(rule)"
        }
    }

    package var description: String {
        "\(source) \(reason). Copy the key again from the Hyperstack console; the key itself is not shown here."
    }
}

extension SecretString {
    /// The API key loaded from `source`, validated: visible ASCII (0x21–0x7E) only, not empty,
    /// one line; a file may end in a single `\n` or `\r\n`, which is dropped.
    ///
    /// The one place credentials are checked, for every source: the executable uses it for the
    /// environment and `--api-key-file`, the server for `initialize`.
    package init(validatingAPIKey text: String, from source: CredentialSource) throws(CredentialError) {
        try self.init(validatingAPIKey: Array(text.utf8), from: source)
    }

    /// The same, for the bytes of a key file as read (which need not be UTF-8).
    package init(validatingAPIKey bytes: [UInt8], from source: CredentialSource) throws(CredentialError) {
        var end = bytes.endIndex
        if source.allowsTrailingNewline, end > 0, bytes[end - 1] == UInt8(ascii: "\n") {
            end -= 1
            if end > 0, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        }
        let key = bytes[..<end]
        if let problem = Self.problem(in: key) { throw CredentialError(source: source, problem: problem) }
        self.init(String(decoding: key, as: UTF8.self))
    }

    /// The first thing wrong with `key`, or nil when it is usable. Line breaks come first, since
    /// a file that holds two lines is the likeliest mistake and says the most.
    static func problem(in key: ArraySlice<UInt8>) -> CredentialError.Problem? {
        guard !key.isEmpty else { return .empty }
        if key.contains(UInt8(ascii: "\n")) || key.contains(UInt8(ascii: "\r")) {
            // Only line breaks and nothing else (a file of "\n\n"): the key is missing, not split.
            return key.allSatisfy { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") } ? .empty : .moreThanOneLine
        }
        if key.contains(0) { return .nul }
        for byte in key {
            switch byte {
            case 0x21...0x7E: continue
            case 0x20: return .space
            case 0x80...: return .nonASCII
            default: return .controlCharacter
            }
        }
        return nil
    }
}
