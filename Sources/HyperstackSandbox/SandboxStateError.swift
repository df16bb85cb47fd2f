/// The state file could not be read, written or locked. The message names the file and
/// says what to do, because it usually ends the sandbox at startup, and a save that
/// fails later is reported with its real cause ("permission denied"), not as a bare 500.
package struct SandboxStateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being done when it failed; it decides how the message starts.
    package enum Operation: Sendable, Equatable {
        case load
        case save
        case lock
    }

    package var path: String
    package var reason: String
    package var operation: Operation

    package init(path: String, reason: String, operation: Operation = .load) {
        self.path = path
        self.reason = reason
        self.operation = operation
    }

    package var description: String {
        switch operation {
        case .load, .lock: "Sandbox state file \(path): \(reason)"
        case .save: "cannot save sandbox state to \(path): \(reason)"
        }
    }
}
