#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file was refused or could not be opened: the message names the file, its role
/// and the reason, and says what to do, because it usually ends the process at startup
/// and is read in an editor's output pane.
package struct SecureFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the file is for, e.g. "log file", "API key file".
    package var role: String
    package var path: String
    /// Why, e.g. "it is a symbolic link", "permission denied".
    package var reason: String
    /// The system error behind the refusal, if there was one (`EACCES`, `ELOOP`, ...).
    package var code: Int32?

    package init(role: String, path: String, reason: String, code: Int32? = nil) {
        self.role = role
        self.path = path
        self.reason = reason
        self.code = code
    }

    package var description: String {
        "cannot use the \(role) \(path): \(reason)"
    }

    /// `strerror` in lower case ("permission denied"), as it reads inside a sentence.
    package static func describe(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        guard let first = text.first else { return "error \(code)" }
        return first.lowercased() + text.dropFirst()
    }
}
