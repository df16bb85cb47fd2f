#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the process's standard streams could not be prepared for the protocol.
struct StandardStreamsError: Error, CustomStringConvertible {
    var description: String
}

/// Gives the protocol exclusive use of the real standard output.
///
/// The protocol writes to a duplicate of fd 1, and fd 1 itself is pointed at stderr,
/// so a stray `print` from any library lands in the log instead of corrupting a frame.
/// SIGPIPE is ignored so that a reader that goes away shows up as EPIPE, which the
/// writer turns into a clean exit, instead of killing the process.
enum StandardStreams {
    /// Duplicates stdout for the protocol, redirects fd 1 to stderr and ignores SIGPIPE.
    /// Returns the descriptor the protocol must write to.
    static func takeOverStandardOutput() throws -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let protocolOutput = dup(STDOUT_FILENO)
        guard protocolOutput >= 0 else {
            throw StandardStreamsError(description: "could not duplicate standard output (errno \(errno))")
        }
        _ = fcntl(protocolOutput, F_SETFD, FD_CLOEXEC)
        guard dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else {
            throw StandardStreamsError(description: "could not point standard output at standard error (errno \(errno))")
        }
        return protocolOutput
    }
}
