import LogOutput
import Logging
import Testing

@Suite struct LogLineEscapingTests {
    @Test func plainTextIsUnchanged() {
        #expect(LogLineEscaping.escape("GET /api-key 200 in 3 ms") == "GET /api-key 200 in 3 ms")
        #expect(LogLineEscaping.escape("clé ключ 鍵") == "clé ключ 鍵")
    }

    @Test func lineBreaksCannotStartANewLine() {
        let forged = "Bad request\n2026-01-01T00:00:00Z critical forged: owned\r\u{1B}[2Kx\u{2028}y\u{85}z"
        let escaped = LogLineEscaping.escape(forged)
        #expect(!escaped.contains("\n"))
        #expect(!escaped.contains("\r"))
        #expect(!escaped.unicodeScalars.contains("\u{1B}"))
        #expect(!escaped.unicodeScalars.contains("\u{2028}"))
        #expect(!escaped.unicodeScalars.contains("\u{85}"))
        #expect(escaped == #"Bad request\n2026-01-01T00:00:00Z critical forged: owned\r\u{1B}[2Kx\u{2028}y\u{85}z"#)
    }

    @Test func backslashIsEscapedSoTheResultReadsBackUnambiguously() {
        #expect(LogLineEscaping.escape(#"a\nb"#) == #"a\\nb"#)
        #expect(LogLineEscaping.escape("a\nb") == #"a\nb"#)
    }

    @Test func invisibleFormattingCharactersAreShown() {
        #expect(LogLineEscaping.escape("a\u{202E}b\u{200B}c\u{0}d\t") == #"a\u{202E}b\u{200B}c\u{0}d\t"#)
    }

    @Test func metadataKeysAndValuesAreEscapedAndSorted() {
        let metadata: Logger.Metadata = ["z": "1", "error": "line one\nline two", "a\nb": "k"]
        #expect(LogLineEscaping.render(metadata) == #"a\nb=k error=line one\nline two z=1"#)
        #expect(LogLineEscaping.render([:]) == nil)
    }
}
