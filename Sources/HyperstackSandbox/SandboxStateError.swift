/// The state file could not be read or written. The message names the file and says
/// what to do, because it usually ends the sandbox at startup.
public struct SandboxStateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        "Sandbox state file \(path): \(reason)"
    }
}
