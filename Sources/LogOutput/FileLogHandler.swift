#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import SecureFiles

/// Appends whole log lines to a file opened by `SecureFile.openForAppending`: never
/// through a symlink, never someone else's file, created 0600.
///
/// Each line goes out in one `write` on an `O_APPEND` descriptor, which the kernel keeps
/// whole, so threads logging at once never interleave within a line.
public final class LogFileSink: Sendable {
    private let descriptor: Int32

    public init(path: String) throws(SecureFileError) {
        descriptor = try SecureFile.openForAppending(path, role: "log file")
    }

    public func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in _ = systemWrite(descriptor, bytes.baseAddress, bytes.count) }
    }
}

/// A swift-log handler that writes `timestamp level label: message metadata` lines to a
/// file, escaping message and metadata values like `StderrLogHandler`.
public struct FileLogHandler: LogHandler {
    public let label: String
    public let sink: LogFileSink
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public init(label: String, sink: LogFileSink, level: Logger.Level) {
        self.label = label
        self.sink = sink
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let rendered = LogLineEscaping.render(LogLineEscaping.merged(metadata, event)).map { " " + $0 } ?? ""
        let timestamp = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        sink.write("\(timestamp) \(event.level) \(LogLineEscaping.escape(label)): \(LogLineEscaping.escape(event.message.description))\(rendered)\n")
    }
}

/// `write(2)`, named apart from `LogFileSink.write(_:)`, which would otherwise shadow it.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
