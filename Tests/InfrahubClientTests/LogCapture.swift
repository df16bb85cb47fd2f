import Logging
import Synchronization

/// Collects every log line (message plus metadata) a `Logger` emits, to check what was logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var captured: [String] { lines.withLock { $0 } }

    /// A trace-level logger writing into this capture.
    var logger: Logger {
        var logger = Logger(label: "infrahub-client-tests") { _ in CapturingLogHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) {
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
        capture.append("\(event.level) \(event.message) \(rendered)")
    }
}
