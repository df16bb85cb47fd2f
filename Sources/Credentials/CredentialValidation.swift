/// Where a credential was loaded from, so that a refusal can name the source without quoting it.
package enum CredentialSource: Sendable, Equatable {
    /// An environment variable, e.g. `HYPERSTACK_API_KEY`.
    case environment(variable: String)
    /// A file given with `--api-key-file` or `--access-token-file`.
    case file(path: String)
    /// `initialize`'s `initializationOptions.apiKey` or `.accessToken`.
    case initializationOptions
    /// A forwarder's hello to the shared daemon, which carries the credentials it loaded.
    case daemonHello

    /// "the API key in HYPERSTACK_API_KEY", "the access token file PATH", as a message starts.
    package func naming(_ credential: CredentialKind) -> String {
        switch self {
        case .environment(let variable): return "the \(credential.name) in \(variable)"
        case .file(let path): return "the \(credential.name) file \(path)"
        case .initializationOptions: return "initializationOptions.\(credential.optionsMember)"
        case .daemonHello: return "the \(credential.name) a forwarder sent"
        }
    }

    /// A key file may end in one newline, since editors and `echo` add one; nothing else may.
    var allowsTrailingNewline: Bool {
        if case .file = self { return true }
        return false
    }
}

/// Why a credential was refused when it was loaded. The description names the credential, its
/// source and the kind of problem, never the value: a key or token must not appear in messages,
/// logs or crash output.
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

    package var credential: CredentialKind
    package var source: CredentialSource
    package var problem: Problem

    package init(credential: CredentialKind, source: CredentialSource, problem: Problem) {
        self.credential = credential
        self.source = source
        self.problem = problem
    }

    /// The part after the source: what is wrong.
    package var reason: String {
        let rule = "a Hyperstack \(credential.name) is one line of visible ASCII characters"
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
        let noun = credential == .apiKey ? "key" : "token"
        return "\(source.naming(credential)) \(reason). Copy the \(noun) again from the Hyperstack console; the \(noun) itself is not shown here."
    }
}

extension SecretString {
    /// The API key or access token loaded from `source`, validated: visible ASCII (0x21–0x7E)
    /// only, not empty, one line; a file may end in a single `\n` or `\r\n`, which is dropped.
    ///
    /// The one place credentials are checked, for every kind and source: the executable uses it
    /// for the environment and the files, the server for `initialize`, the daemon for the hello.
    package init(validating text: String, as credential: CredentialKind, from source: CredentialSource) throws(CredentialError) {
        try self.init(validating: Array(text.utf8), as: credential, from: source)
    }

    /// The same, for the bytes of a key or token file as read (which need not be UTF-8).
    package init(validating bytes: [UInt8], as credential: CredentialKind, from source: CredentialSource) throws(CredentialError) {
        var end = bytes.endIndex
        if source.allowsTrailingNewline, end > 0, bytes[end - 1] == UInt8(ascii: "\n") {
            end -= 1
            if end > 0, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        }
        let key = bytes[..<end]
        if let problem = Self.problem(in: key) { throw CredentialError(credential: credential, source: source, problem: problem) }
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
