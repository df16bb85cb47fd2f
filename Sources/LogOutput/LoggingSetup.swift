import Logging
import SecureFiles

/// Bootstraps swift-log once, first thing: to stderr, or to a log file when asked. Both
/// handlers escape control characters (see `LogLineEscaping`), so nothing upstream sends
/// can forge a log line. The server, the sandbox and the thin forwarder all start here.
package enum LoggingSetup {
    package static func bootstrap(level: Logger.Level, file: String?) throws -> Logger {
        if let file {
            let sink: LogFileSink
            do {
                sink = try LogFileSink(path: file)
            } catch {
                throw LogFileError(description: "\(error)")
            }
            LoggingSystem.bootstrap { label in EscapingLogHandler(label: label, output: .file(sink), level: level) }
        } else {
            LoggingSystem.bootstrap { label in EscapingLogHandler(label: label, output: .standardError, level: level) }
        }
        var logger = Logger(label: "hyperstack-rpc")
        logger.logLevel = level
        return logger
    }
}

/// The log file could not be opened or was refused (a symlink, another user's file, ...).
package struct LogFileError: Error, CustomStringConvertible {
    package var description: String
}
