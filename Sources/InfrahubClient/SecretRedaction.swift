import Credentials
/// Takes every trace of a secret out of text we did not write (upstream's error bodies, and the
/// messages built from them), before that text is cut short, quoted, logged or sent to a client.
///
/// A safety net, not the mechanism: credentials are validated when loaded, and our own messages
/// never quote them. But an upstream or a gateway may echo the key it received in any spelling,
/// so this catches, case-insensitively, every run of `minimumRun` or more characters of
///
/// - the secret itself (which covers a prefix, a suffix, an upper-cased copy, and the halves of
///   a copy split around `": "`), and each visible stretch of it between control characters;
/// - its percent-encoding, its JSON-escaped form and its hex;
/// - its base64 and base64url encodings at each of the three alignments a secret can have
///   inside longer encoded text.
///
/// Each run found is replaced by `marker`; overlapping and adjacent runs become one marker.
package struct SecretRedactor: Sendable {
    /// What a redacted run is replaced by.
    package static let marker = "<redacted>"
    /// The shortest piece of a secret that is taken out. Shorter pieces are too likely to be
    /// ordinary text; a secret shorter than this is matched whole.
    package static let minimumRun = 8

    /// Every `minimumRun`-byte window of every form, lower-cased, packed into 8 bytes.
    private let runs: Set<UInt64>
    /// Whole forms of a secret too short to have runs.
    private let shortForms: [[UInt8]]

    /// A redactor for `secret`. Runs that also occur in one of `sparing`, our own fixed wording
    /// (such as the help that says how to configure a key), reveal nothing about the secret and
    /// are left alone, so a message built around upstream's words keeps its advice readable.
    package init(secret: SecretString, sparing: [String] = []) {
        self.init(secrets: [secret], sparing: sparing)
    }

    /// A redactor for every one of `secrets` at once (the API key and the access token).
    package init(secrets: [SecretString], sparing: [String] = []) {
        var runs = Set<UInt64>()
        var shortForms: [[UInt8]] = []
        for secret in secrets {
            let bytes = Array(secret.revealed.utf8)
            for form in Self.forms(of: bytes).map({ $0.map(Self.lowercased) }) {
                guard form.count >= Self.minimumRun else {
                    // Short forms matter only when the secret itself is short: otherwise its runs cover them.
                    if !form.isEmpty, bytes.count < Self.minimumRun { shortForms.append(form) }
                    continue
                }
                for start in 0...(form.count - Self.minimumRun) {
                    runs.insert(Self.pack(form[start..<(start + Self.minimumRun)]))
                }
            }
        }
        for text in sparing {
            let spared = Array(text.utf8).map(Self.lowercased)
            guard spared.count >= Self.minimumRun else { continue }
            for start in 0...(spared.count - Self.minimumRun) {
                runs.remove(Self.pack(spared[start..<(start + Self.minimumRun)]))
            }
        }
        self.runs = runs
        self.shortForms = shortForms
    }

    /// Whether `text` holds anything this redactor would take out.
    package func finds(in text: String) -> Bool {
        !marks(Array(text.utf8)).isEmpty
    }

    /// `text` with every run of the secret replaced by `marker`.
    package func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let found = marks(bytes)
        guard !found.isEmpty else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var position = 0
        for range in found {
            output.append(contentsOf: bytes[position..<range.lowerBound])
            output.append(contentsOf: Self.marker.utf8)
            position = range.upperBound
        }
        output.append(contentsOf: bytes[position...])
        return String(decoding: output, as: UTF8.self)
    }

    /// `text` redacted, or nil for nil.
    package func redact(_ text: String?) -> String? {
        text.map { redact($0) }
    }

    // MARK: - Matching

    /// The merged byte ranges of `bytes` to take out, in order, widened to whole UTF-8 scalars.
    private func marks(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        func add(_ range: Range<Int>) {
            var lower = range.lowerBound
            var upper = range.upperBound
            while lower > 0, Self.isContinuation(bytes[lower]) { lower -= 1 }
            while upper < bytes.count, Self.isContinuation(bytes[upper]) { upper += 1 }
            if let last = ranges.last, last.upperBound >= lower {
                ranges[ranges.count - 1] = last.lowerBound..<max(last.upperBound, upper)
            } else {
                ranges.append(lower..<upper)
            }
        }
        let run = Self.minimumRun
        if !runs.isEmpty, bytes.count >= run {
            var window: UInt64 = 0
            for index in bytes.indices {
                window = (window << 8) | UInt64(Self.lowercased(bytes[index]))
                if index >= run - 1, runs.contains(window) { add((index - run + 1)..<(index + 1)) }
            }
        }
        if !shortForms.isEmpty {
            var found: [Range<Int>] = []
            for form in shortForms where bytes.count >= form.count {
                for start in 0...(bytes.count - form.count)
                where zip(form, bytes[start..<(start + form.count)]).allSatisfy({ $0 == Self.lowercased($1) }) {
                    found.append(start..<(start + form.count))
                }
            }
            for range in found.sorted(by: { $0.lowerBound < $1.lowerBound }) { add(range) }
        }
        return ranges
    }

    private static func pack(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { ($0 << 8) | UInt64($1) }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }

    private static func isContinuation(_ byte: UInt8) -> Bool {
        byte & 0xC0 == 0x80
    }

    // MARK: - Forms

    /// The spellings of `secret` an echo could take.
    static func forms(of secret: [UInt8]) -> [[UInt8]] {
        guard !secret.isEmpty else { return [] }
        var forms: [[UInt8]] = [secret, percentEncoded(secret), jsonEscaped(secret), hex(secret)]
        forms += visibleStretches(of: secret)
        for shift in 0..<3 {
            let encoded = base64(Array(repeating: 0, count: shift) + secret)
            // The first characters mix in the padding bytes, the last block whatever follows.
            let start = (shift * 4 + 2) / 3
            let end = encoded.count - 4
            guard end - start >= minimumRun else { continue }
            let core = Array(encoded[start..<end])
            forms.append(core)
            forms.append(core.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 })
        }
        return forms
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters; the hex digits'
    /// case does not matter, since matching ignores case.
    static func percentEncoded(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.append(byte)
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return output
    }

    /// The secret as it appears inside a JSON string: `"` and `\` escaped.
    static func jsonEscaped(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { output.append(UInt8(ascii: "\\")) }
            output.append(byte)
        }
        return output
    }

    static func hex(_ bytes: [UInt8]) -> [UInt8] {
        bytes.flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 0x0F)]] }
    }

    /// The runs of visible characters between control characters (or spaces): what an escaped
    /// quotation of a secret with a line break in it keeps verbatim.
    static func visibleStretches(of bytes: [UInt8]) -> [[UInt8]] {
        let pieces = bytes.split(whereSeparator: { !(0x21...0x7E).contains($0) && $0 < 0x80 }).map(Array.init)
        return pieces.count > 1 ? pieces : []
    }

    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * offset) }
            for position in 0..<4 {
                if position <= chunk.count {
                    output.append(alphabet[Int((value >> (18 - 6 * position)) & 0x3F)])
                } else {
                    output.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return output
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
