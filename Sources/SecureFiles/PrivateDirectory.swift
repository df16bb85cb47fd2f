#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory that only we may enter, such as the one holding the daemon's socket: where
/// a socket, a lock and a log live, anyone else who can look in could connect, plant a
/// socket of their own, or read the log, so the rule is stricter than `SecureDirectory`'s.
///
/// It must be a real directory (not a symbolic link), owned by us, with no permission bit
/// for group or others. A missing one (and missing parents) is created 0700; an existing
/// one is never changed, only refused with the `chmod` that fixes it.
package enum PrivateDirectory {
    /// Creates `path` (mode 0700, parents too) if absent, then checks it. `role` names it in errors.
    package static func prepare(_ path: String, role: String) throws(SecureFileError) {
        try create(path, role: role)
        try check(path, role: role)
    }

    /// Checks an existing directory by the rule above.
    package static func check(_ path: String, role: String) throws(SecureFileError) {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            let code = errno
            throw SecureFileError(role: role, path: path, reason: "it cannot be examined (\(SecureFileError.describe(code)))", code: code)
        }
        let type = status.st_mode & S_IFMT
        if type == S_IFLNK {
            throw SecureFileError(role: role, path: path, reason: "it is a symbolic link; use a real directory of your own")
        }
        guard type == S_IFDIR else {
            throw SecureFileError(role: role, path: path, reason: "it is not a directory")
        }
        guard status.st_uid == geteuid() else {
            throw SecureFileError(
                role: role, path: path,
                reason: "it belongs to \(UserName.describe(status.st_uid)), not to you; remove it or use another directory")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw SecureFileError(
                role: role, path: path,
                reason: "group or other users have access to it (mode \(Mode.octal(status.st_mode))); run chmod 700 \(path)")
        }
    }

    private static func create(_ path: String, role: String) throws(SecureFileError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 {
                let code = errno
                guard code == EEXIST else {
                    throw SecureFileError(
                        role: role, path: path, reason: "\(prefix) cannot be created (\(SecureFileError.describe(code)))", code: code)
                }
            }
        }
    }
}
