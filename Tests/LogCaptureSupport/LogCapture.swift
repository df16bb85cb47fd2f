import Locking
import Logging
import Synchronization

/// The test suites' one log-capture handler: a real swift-log handler that keeps every line, so
/// a test can check what was logged, and above all that no secret was.
package final class LogCapture: Sendable {
    /// One logged event: its level, and its message followed by its metadata as `key=value`.
    package struct Line: Sendable {
        package var level: Logger.Level
        package var text: String
    }

    private let lines = Lock<[Line]>([])

    package init() {}

    /// A trace-level logger writing into this capture.
    package func logger(label: String = "tests") -> Logger {
        var logger = Logger(label: label) { _ in CapturingLogHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    /// A trace-level logger writing into this capture.
    package var logger: Logger { logger() }

    package var all: [Line] { lines.withLock { $0 } }

    /// Every line as `level message key=value…`.
    package var captured: [String] { all.map { "\($0.level) \($0.text)" } }

    package func lines(at level: Logger.Level) -> [Line] { all.filter { $0.level == level } }

    fileprivate func append(_ line: Line) {
        lines.withLock { $0.append(line) }
    }
}

private struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append(LogCapture.Line(level: event.level, text: "\(event.message) \(rendered)"))
    }
}
