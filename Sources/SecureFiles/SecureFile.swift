#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place that opens files for the project, by one rule: every file we write is
/// opened without following symlinks, created 0600 inside a directory only we (or root)
/// can change, and refused if someone else owns it; every file we read that holds
/// secrets is checked the same way.
///
/// Every open uses `O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK` (so a planted FIFO
/// cannot block us) and is judged by `fstat` on the descriptor itself, never by a
/// second look at the path. Permissions are never changed: a file that is ours but too
/// open is refused with the `chmod` that fixes it, and someone else's file is never
/// touched at all.
package enum SecureFile {
    /// What `readSecret` found: the contents, and a warning to show when group or others
    /// can read the file (it is still used, as ssh does for a readable config).
    package struct Secret: Sendable {
        package var bytes: [UInt8]
        package var warning: String?
    }

    /// Opens `path` for appending, creating it with mode 0600 if it does not exist: log files.
    ///
    /// The file must be a regular file, ours, with one link and no group or other
    /// permission bits. The returned descriptor is blocking, `O_APPEND` and close-on-exec.
    package static func openForAppending(_ path: String, role: String) throws(SecureFileError) -> Int32 {
        let directory = try SecureDirectory(containing: path, role: role)
        let name = SecureDirectory.fileName(of: path)
        let descriptor = openat(
            directory.descriptor, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0o600)
        guard descriptor >= 0 else { throw openFailure(errno, path: path, role: role) }
        do {
            try checkWritable(descriptor, path: path, role: role)
        } catch {
            close(descriptor)
            throw error
        }
        clearNonBlocking(descriptor)
        return descriptor
    }

    /// Creates a new file named `name` in `directory`, exclusively and with mode 0600:
    /// the temporary file of an atomic replace. Fails if anything exists under that name.
    package static func createExclusively(
        _ name: String, in directory: SecureDirectory, path: String, role: String
    ) throws(SecureFileError) -> Int32 {
        let descriptor = openat(
            directory.descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0o600)
        guard descriptor >= 0 else { throw openFailure(errno, path: path, role: role) }
        return descriptor
    }

    /// Opens a file we keep (a state file) for reading; `nil` when it does not exist.
    ///
    /// It must be a regular file and ours; one owned by another user is refused, since
    /// they could have written anything into it.
    package static func openOwnedForReading(_ path: String, role: String) throws(SecureFileError) -> Int32? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw openFailure(code, path: path, role: role)
        }
        do {
            let status = try examine(descriptor, path: path, role: role)
            try checkRegularAndOurs(status, path: path, role: role)
        } catch {
            close(descriptor)
            throw error
        }
        clearNonBlocking(descriptor)
        return descriptor
    }

    /// Reads a file that holds a secret (the API key file), at most `limit` bytes.
    ///
    /// Refused: a symlink, anything but a regular file, a file owned by another user, one
    /// larger than `limit`. Group- or other-readable or writable: read, with a warning
    /// naming the file and the `chmod` that fixes it.
    package static func readSecret(_ path: String, role: String, limit: Int = 64 * 1024) throws(SecureFileError) -> Secret {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard descriptor >= 0 else { throw openFailure(errno, path: path, role: role) }
        defer { close(descriptor) }
        let status = try examine(descriptor, path: path, role: role)
        try checkRegularAndOurs(status, path: path, role: role)
        guard Int(status.st_size) <= limit else {
            throw SecureFileError(role: role, path: path, reason: "it is larger than \(limit / 1024) KiB; it should hold only the key")
        }
        clearNonBlocking(descriptor)
        let bytes = try readAll(descriptor, limit: limit, path: path, role: role)
        var warning: String?
        if status.st_mode & 0o077 != 0 {
            warning = "warning: the \(role) \(path) can be accessed by other users (mode \(Mode.octal(status.st_mode))); "
                + "it holds a secret, so run: chmod 600 \(path)"
        }
        return Secret(bytes: bytes, warning: warning)
    }

    /// Everything `descriptor` holds, up to `limit` bytes (more is an error).
    package static func readAll(_ descriptor: Int32, limit: Int, path: String, role: String) throws(SecureFileError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw SecureFileError(role: role, path: path, reason: "it cannot be read (\(SecureFileError.describe(code)))", code: code)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit {
                throw SecureFileError(role: role, path: path, reason: "it is larger than \(limit / 1024) KiB")
            }
        }
    }

    /// Checks a descriptor we are about to write to: regular, ours, one link, mode 0600 or tighter.
    package static func checkWritable(_ descriptor: Int32, path: String, role: String) throws(SecureFileError) {
        let status = try examine(descriptor, path: path, role: role)
        try checkRegularAndOurs(status, path: path, role: role)
        if status.st_nlink != 1 {
            throw SecureFileError(
                role: role, path: path,
                reason: "it has \(status.st_nlink) hard links, so what we write could be read under another name; remove it or choose another path")
        }
        if status.st_mode & 0o077 != 0 {
            throw SecureFileError(
                role: role, path: path,
                reason: "other users can access it (mode \(Mode.octal(status.st_mode))); we do not change a file's permissions, so run chmod 600 \(path) or remove it")
        }
    }

    private static func examine(_ descriptor: Int32, path: String, role: String) throws(SecureFileError) -> stat {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            throw SecureFileError(role: role, path: path, reason: "it cannot be examined (\(SecureFileError.describe(code)))", code: code)
        }
        return status
    }

    private static func checkRegularAndOurs(_ status: stat, path: String, role: String) throws(SecureFileError) {
        if status.st_mode & S_IFMT != S_IFREG {
            throw SecureFileError(role: role, path: path, reason: "it is not a regular file (it is \(kind(of: status.st_mode)))")
        }
        let me = geteuid()
        if status.st_uid != me {
            throw SecureFileError(
                role: role, path: path,
                reason: "it belongs to \(UserName.describe(status.st_uid)), not to \(UserName.describe(me)) who runs this process; "
                    + "we never use another user's file, so remove it or choose another path")
        }
    }

    private static func openFailure(_ code: Int32, path: String, role: String) -> SecureFileError {
        let reason: String
        switch code {
        case ELOOP, EMLINK:
            reason = "it is a symbolic link, and we do not follow links for this file; give the real path"
        case ENXIO:
            reason = "it is a FIFO or socket, not a regular file"
        default:
            reason = SecureFileError.describe(code)
        }
        return SecureFileError(role: role, path: path, reason: reason, code: code)
    }

    private static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFLNK: return "a symbolic link"
        default: return "not a plain file"
        }
    }

    private static func clearNonBlocking(_ descriptor: Int32) {
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) }
    }
}
