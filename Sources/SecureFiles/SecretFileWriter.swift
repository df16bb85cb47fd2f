#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes generated secrets to new files, by the rules every file of ours follows and then
/// some: the directories from the allowed root down are opened one `openat` at a time with
/// `O_NOFOLLOW` (missing ones are created 0700), so neither a symlink nor a renamed directory
/// can carry the file elsewhere; each must belong to us or root and, if others may write to
/// it, be sticky; the secrets directory itself must be private (0700). The file is created
/// with `O_CREAT | O_EXCL | O_NOFOLLOW` and mode 0600: an existing path, a symlink included,
/// is refused and never overwritten.
package enum SecretFileWriter {
    package static let role = "secret file"

    /// Opens the secrets directory itself, where id-named files go, creating it 0700 if missing.
    package static func openSecretsDirectory(_ policy: SecretFilePolicy) throws(SecureFileError) -> SecretDirectory {
        try openDirectory(root: policy.secretsDirectory, isSecretsDirectory: true, below: [], for: policy.secretsDirectory)
    }

    /// Opens the directory that will hold `file`, creating missing directories below its root.
    /// Call it before the key exists, so a path that cannot work is refused before anything
    /// happens upstream.
    package static func openDirectory(of file: SecretFilePath) throws(SecureFileError) -> SecretDirectory {
        try openDirectory(
            root: file.root, isSecretsDirectory: file.rootIsSecretsDirectory, below: Array(file.components.dropLast()),
            for: file.path)
    }

    /// Opens `root`, then each of `below` in turn; `path` is the file's, for messages.
    private static func openDirectory(
        root: String, isSecretsDirectory: Bool, below: [String], for path: String
    ) throws(SecureFileError) -> SecretDirectory {
        if isSecretsDirectory {
            try PrivateDirectory.prepare(root, role: "secrets directory")
        }
        // The root is the user's own choice (an option), so it may be reached through links;
        // below it, nothing is.
        var descriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw SecureFileError(
                role: role, path: path,
                reason: "the directory \(root) cannot be opened (\(SecureFileError.describe(code)))", code: code)
        }
        var directoryPath = root
        do {
            try checkDirectory(descriptor, directory: directoryPath, file: path, private: isSecretsDirectory)
            for component in below {
                let next = try openSubdirectory(component, in: descriptor, parentPath: directoryPath, file: path)
                close(descriptor)
                descriptor = next
                directoryPath = (directoryPath == "/" ? "" : directoryPath) + "/" + component
                try checkDirectory(descriptor, directory: directoryPath, file: path, private: false)
            }
        } catch {
            close(descriptor)
            throw error
        }
        return SecretDirectory(path: directoryPath, descriptor: descriptor)
    }

    /// Opens `name` below `parent` without following a link, creating it 0700 when missing.
    private static func openSubdirectory(
        _ name: String, in parent: Int32, parentPath: String, file: String
    ) throws(SecureFileError) -> Int32 {
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        var descriptor = openat(parent, name, flags)
        if descriptor < 0 && errno == ENOENT {
            if mkdirat(parent, name, 0o700) != 0 && errno != EEXIST {
                let code = errno
                throw SecureFileError(
                    role: role, path: file,
                    reason: "the directory \(name) cannot be created in \(parentPath) (\(SecureFileError.describe(code)))",
                    code: code)
            }
            descriptor = openat(parent, name, flags)
        }
        guard descriptor >= 0 else {
            let code = errno
            var status = stat()
            let isLink = fstatat(parent, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && status.st_mode & S_IFMT == S_IFLNK
            let reason: String
            switch code {
            case _ where isLink, ELOOP:
                reason = "\(name) in \(parentPath) is a symbolic link, and secrets are never written through links"
            case ENOTDIR:
                reason = "\(name) in \(parentPath) is not a directory"
            default:
                reason = "\(name) in \(parentPath) cannot be opened (\(SecureFileError.describe(code)))"
            }
            throw SecureFileError(role: role, path: file, reason: reason, code: code)
        }
        return descriptor
    }

    /// A directory may hold a secret file when nobody else can take the file out of it.
    private static func checkDirectory(_ descriptor: Int32, directory: String, file: String, private: Bool) throws(SecureFileError) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            throw SecureFileError(role: role, path: file, reason: "\(directory) cannot be examined (\(SecureFileError.describe(code)))", code: code)
        }
        let me = geteuid()
        if `private` {
            guard status.st_uid == me, status.st_mode & 0o077 == 0 else {
                throw SecureFileError(
                    role: role, path: file,
                    reason: "the secrets directory \(directory) must be yours with no access for others (mode \(Mode.octal(status.st_mode))); run chmod 700 \(directory)")
            }
            return
        }
        guard status.st_uid == me || status.st_uid == 0 else {
            throw SecureFileError(
                role: role, path: file,
                reason: "the directory \(directory) belongs to \(UserName.describe(status.st_uid)), who could replace the file; use a directory of your own")
        }
        if status.st_mode & (S_IWGRP | S_IWOTH) != 0 && status.st_mode & S_ISVTX == 0 {
            throw SecureFileError(
                role: role, path: file,
                reason: "the directory \(directory) can be written by other users (mode \(Mode.octal(status.st_mode))) and is not sticky, so they could replace the file; use a private directory")
        }
    }
}

/// An opened, checked directory that a secret file will be created in.
package struct SecretDirectory: ~Copyable, Sendable {
    /// The directory's path, for messages and the file's reported path.
    package let path: String
    private let descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Creates `name` here, exclusively and 0600. Fails with `EEXIST` in `code` when
    /// anything, a symlink included, already has that name.
    package func create(_ name: String) throws(SecureFileError) -> ReservedSecretFile {
        let filePath = (path == "/" ? "" : path) + "/" + name
        let role = SecretFileWriter.role
        let file = openat(descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0o600)
        guard file >= 0 else {
            let code = errno
            var reason = SecureFileError.describe(code)
            if code == EEXIST {
                var status = stat()
                let isLink = fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && status.st_mode & S_IFMT == S_IFLNK
                reason =
                    isLink
                    ? "it is a symbolic link; secret files are created new, never written through links"
                    : "it already exists, and a secret file is never overwritten; choose another name or remove it"
            }
            throw SecureFileError(role: role, path: filePath, reason: reason, code: code)
        }
        var status = stat()
        guard fstat(file, &status) == 0 else {
            let code = errno
            close(file)
            _ = unlinkat(descriptor, name, 0)
            throw SecureFileError(role: role, path: filePath, reason: "it cannot be examined (\(SecureFileError.describe(code)))", code: code)
        }
        return ReservedSecretFile(
            path: filePath, directory: dup(descriptor), name: name, descriptor: file,
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }
}

/// A new, empty secret file of ours, created before the key exists where the caller named
/// it: `write` fills it once, `discard` removes it when the key could not be made.
package struct ReservedSecretFile: ~Copyable, Sendable {
    package let path: String
    private let directory: Int32
    private let name: String
    private let descriptor: Int32
    private let device: UInt64
    private let inode: UInt64

    init(path: String, directory: Int32, name: String, descriptor: Int32, device: UInt64, inode: UInt64) {
        self.path = path
        self.directory = directory
        self.name = name
        self.descriptor = descriptor
        self.device = device
        self.inode = inode
    }

    deinit {
        close(descriptor)
        if directory >= 0 { close(directory) }
    }

    /// Writes `secret` and a newline, and makes it durable. On failure the partial file is
    /// removed (it holds nothing usable) and the error says why.
    package consuming func write(secret: String) throws(SecureFileError) {
        var bytes = Array(secret.utf8) + [UInt8(ascii: "\n")]
        defer { bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { _ = memset(base, 0, $0.count) } } }
        var offset = 0
        var failure: Int32 = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        if failure == 0 && fsync(descriptor) != 0 { failure = errno }
        guard failure == 0 else {
            removeIfStillOurs()
            throw SecureFileError(
                role: SecretFileWriter.role, path: path,
                reason: "it could not be written (\(SecureFileError.describe(failure))), so it was removed", code: failure)
        }
        if directory >= 0 { _ = fsync(directory) }
    }

    /// Removes the empty file: the key it was meant for was never created.
    package consuming func discard() {
        removeIfStillOurs()
    }

    /// Unlinks the name only while it still names our file, never a replacement.
    private func removeIfStillOurs() {
        guard directory >= 0 else { return }
        var status = stat()
        guard fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0,
            UInt64(status.st_dev) == device, UInt64(status.st_ino) == inode
        else { return }
        _ = unlinkat(directory, name, 0)
    }
}

/// libc's `write`, named apart from `ReservedSecretFile.write(secret:)`, which would shadow it.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
