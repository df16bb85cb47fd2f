#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The directory a file of ours lives in, opened once and checked, so that every file
/// operation after the check happens relative to that very directory (`openat`,
/// `renameat`) and not to whatever a path names by then.
///
/// The rule: the directory belongs to us or to root, and if group or others may write to
/// it, it is sticky (like `/tmp`). Otherwise another user could remove or rename our file
/// and put their own in its place. Only the directory itself is checked, not its
/// ancestors; the checks on the file's own descriptor (see `SecureFile`) are what make an
/// open safe, this one keeps someone else from pulling the file away later.
package final class SecureDirectory: Sendable {
    /// The directory's path as given (`.` for a bare file name).
    package let path: String
    /// An `O_RDONLY | O_DIRECTORY` descriptor, closed when this is released.
    package let descriptor: Int32

    /// Opens and checks the directory that holds `filePath`. `role` names the file in errors.
    package init(containing filePath: String, role: String) throws(SecureFileError) {
        let directory = Self.directory(of: filePath)
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw SecureFileError(
                role: role, path: filePath, reason: "its directory \(directory) cannot be opened (\(SecureFileError.describe(code)))",
                code: code)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw SecureFileError(role: role, path: filePath, reason: "its directory \(directory) cannot be examined (\(SecureFileError.describe(code)))", code: code)
        }
        let me = geteuid()
        if status.st_uid != me && status.st_uid != 0 {
            close(descriptor)
            throw SecureFileError(
                role: role, path: filePath,
                reason: "its directory \(directory) belongs to \(UserName.describe(status.st_uid)), who could replace the file; use a directory of your own")
        }
        let writableByOthers = status.st_mode & (S_IWGRP | S_IWOTH) != 0
        if writableByOthers && status.st_mode & S_ISVTX == 0 {
            close(descriptor)
            throw SecureFileError(
                role: role, path: filePath,
                reason: "its directory \(directory) can be written by other users (mode \(Mode.octal(status.st_mode))) and is not sticky, so they could replace the file; use a private directory")
        }
        self.path = directory
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Makes renames and creations in the directory durable. Failing loses nothing already done.
    package func synchronize() {
        _ = fsync(descriptor)
    }

    /// The directory part of `path`: `.` for a bare name, `/` for a file in the root.
    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// The last component of `path`.
    package static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// Permission bits as people write them, `0644`.
enum Mode {
    static func octal(_ mode: mode_t) -> String {
        let bits = Int(mode) & 0o7777
        let digits = String(bits, radix: 8)
        return "0" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}

/// User names for messages: "user alice (uid 1001)", or just the uid when unknown.
enum UserName {
    static func describe(_ uid: uid_t) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        if status == 0, let result, let name = result.pointee.pw_name {
            return "user \(String(cString: name)) (uid \(uid))"
        }
        return "uid \(uid)"
    }
}
