import Foundation
import Logging

/// Bootstraps swift-log once, first thing: to stderr, or to a log file when asked.
enum LoggingSetup {
    static func bootstrap(level: Logger.Level, file: String?) throws -> Logger {
        if let file {
            let sink = try LogFileSink(path: file)
            LoggingSystem.bootstrap { label in
                var handler = FileLogHandler(label: label, sink: sink)
                handler.logLevel = level
                return handler
            }
        } else {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "hyperstack-rpc")
        logger.logLevel = level
        return logger
    }
}

/// Appends whole log lines to a file opened with mode 0600.
///
/// Each line goes out in one `write` on an `O_APPEND` descriptor, which the kernel keeps
/// whole, so threads logging at once never interleave within a line.
final class LogFileSink: Sendable {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw LogFileError(description: "cannot open log file \(path): \(String(cString: strerror(errno)))")
        }
        _ = fchmod(descriptor, 0o600)
    }

    func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in _ = Foundation.write(descriptor, bytes.baseAddress, bytes.count) }
    }
}

/// The log file could not be opened.
struct LogFileError: Error, CustomStringConvertible {
    var description: String
}

/// A swift-log handler that writes `timestamp level label: message metadata` lines to a file.
struct FileLogHandler: LogHandler {
    let label: String
    let sink: LogFileSink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let rendered = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let timestamp = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        sink.write("\(timestamp) \(event.level) \(label): \(event.message)\(rendered)\n")
    }
}
