#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Our one swift-log handler, for stderr and for log files, with every label, message and
/// metadata value escaped by `LogLineEscaping` (the stock `StreamLogHandler` escapes
/// nothing), so text from upstream cannot forge log lines.
///
/// On stderr it keeps `StreamLogHandler`'s format
/// (`2026-11-27T05:18:16+0000 info label: key=value [module] message`), written in one
/// `write` to fd 2 (looping only on a short write); in a file, each line is
/// `timestamp level label: message metadata` with a UTC timestamp to the millisecond.
package struct EscapingLogHandler: LogHandler {
    /// Where the lines go.
    package enum Output: Sendable {
        case standardError
        case file(LogFileSink)
    }

    package let label: String
    package let output: Output
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]

    package init(label: String, output: Output, level: Logger.Level) {
        self.label = label
        self.output = output
        self.logLevel = level
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let rendered = LogLineEscaping.render(LogLineEscaping.merged(metadata, event)).map { " " + $0 } ?? ""
        let label = LogLineEscaping.escape(label)
        let message = LogLineEscaping.escape(event.message.description)
        switch output {
        case .standardError:
            let source = LogLineEscaping.escape(event.source)
            Self.writeToStandardError("\(Self.localTimestamp()) \(event.level) \(label):\(rendered) [\(source)] \(message)\n")
        case .file(let sink):
            sink.write("\(Self.utcTimestamp()) \(event.level) \(label): \(message)\(rendered)\n")
        }
    }

    /// Local time, `%Y-%m-%dT%H:%M:%S%z`, as `StreamLogHandler` writes it.
    static func localTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// UTC with milliseconds, `2026-12-02T14:30:00.123Z` (ISO 8601), for log files.
    static func utcTimestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let milliseconds = Int(now.tv_nsec) / 1_000_000
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) + ".\(fraction)Z"
    }

    static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
