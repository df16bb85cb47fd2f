#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Our stderr handler, in swift-log's `StreamLogHandler` format
/// (`2026-11-27T05:18:16+0000 info label: key=value [module] message`), but with every
/// message and metadata value escaped by `LogLineEscaping`, which the stock handler
/// does not do, so text from upstream cannot forge log lines.
///
/// Each line goes out in one `write` to fd 2 (looping only on a short write), so lines
/// from several threads do not interleave below the pipe's atomic size.
public struct StderrLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let rendered = LogLineEscaping.render(LogLineEscaping.merged(metadata, event)).map { " " + $0 } ?? ""
        let line = "\(Self.timestamp()) \(event.level) \(LogLineEscaping.escape(label)):\(rendered) [\(LogLineEscaping.escape(event.source))] \(LogLineEscaping.escape(event.message.description))\n"
        Self.writeToStandardError(line)
    }

    /// Local time, `%Y-%m-%dT%H:%M:%S%z`, as `StreamLogHandler` writes it.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
