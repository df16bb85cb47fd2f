#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on a lock file, held until this is released or the process ends
/// (the kernel drops it even on SIGKILL), so two processes cannot both own one resource.
///
/// The lock file is opened like every file we write (`SecureFile.openForAppending`: no
/// symlinks, ours, 0600) and left in place afterwards: removing a lock file races with
/// the next process that opens it.
package final class ExclusiveFileLock: Sendable {
    package let path: String
    private let descriptor: Int32

    /// Why a lock could not be taken.
    package enum Failure: Error, Sendable, Equatable {
        /// Another process holds it (after waiting `waited`, if asked to wait).
        case held
        /// The lock file itself is unusable.
        case file(SecureFileError)
    }

    /// Takes the lock on `path`, creating the file if needed. With `wait` > 0 it retries
    /// until the lock is free or the time is up; with 0 it fails at once if held.
    package init(path: String, role: String, wait: Duration = .zero) throws(Failure) {
        let descriptor: Int32
        do {
            descriptor = try SecureFile.openForAppending(path, role: role)
        } catch {
            throw .file(error)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: wait)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK, clock.now < deadline else {
                close(descriptor)
                if code == EWOULDBLOCK { throw .held }
                throw .file(SecureFileError(role: role, path: path, reason: "it cannot be locked (\(SecureFileError.describe(code)))", code: code))
            }
            usleep(20_000)
        }
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
