#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import JanssonJSON
import SecureFiles

/// Reads and writes the state file so that a crash never leaves a half-written file
/// and other local users cannot read it: the new contents go to a temporary file in
/// the same directory (mode 0600), are fsynced, then renamed over the old one.
///
/// Every open goes through `SecureFiles`: the file is never read through a symlink, one
/// owned by another user is refused, and the directory must be ours (or root's) and not
/// writable by others unless sticky. Keeping a second process away is the job of
/// `SandboxStateLock`, which the executables take before they load.
struct SandboxStateFile: Sendable {
    static let role = "sandbox state file"
    let path: String

    /// The saved state, or `nil` when the file does not exist yet.
    ///
    /// Also checks, once, that the state could be saved at all, so that an unwritable
    /// directory is a startup error naming the real cause. A directory that does not exist
    /// is left for the first save to report.
    func load() throws(SandboxStateError) -> SandboxState? {
        let opened: Int32?
        do {
            opened = try SecureFile.openOwnedForReading(path, role: Self.role)
        } catch {
            throw failure(error.reason)
        }
        try checkSavable()
        guard let descriptor = opened else { return nil }
        defer { close(descriptor) }
        let bytes: [UInt8]
        do {
            bytes = try SecureFile.readAll(descriptor, limit: 256 << 20, path: path, role: Self.role)
        } catch {
            throw failure(error.reason)
        }
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            throw failure("is not valid JSON (\(error)). Fix it, or move it away to start with no keys")
        }
        do {
            return try SandboxState(json: json)
        } catch {
            throw failure("is not a sandbox state file: \(error.reason). Fix it, or move it away to start with no keys")
        }
    }

    func save(_ state: SandboxState) throws(SandboxStateError) {
        let bytes: [UInt8]
        do {
            bytes = try state.json.serialized()
        } catch {
            throw saveFailure("it could not be serialised (\(error))")
        }
        let directory = try openDirectory()
        let name = SecureDirectory.fileName(of: path)
        let temporary = ".\(name).\(getpid()).\(UInt32.random(in: .min ... .max)).tmp"
        let descriptor: Int32
        do {
            descriptor = try SecureFile.createExclusively(temporary, in: directory, path: path, role: Self.role)
        } catch {
            throw saveFailure(error.reason)
        }
        var written = 0
        var writeError: Int32 = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                writeError = errno
                break
            }
            written += count
        }
        if writeError == 0, fsync(descriptor) != 0 { writeError = errno }
        close(descriptor)
        if writeError != 0 {
            unlinkat(directory.descriptor, temporary, 0)
            throw saveFailure(SecureFileError.describe(writeError))
        }
        if renameat(directory.descriptor, temporary, directory.descriptor, name) != 0 {
            let code = errno
            unlinkat(directory.descriptor, temporary, 0)
            throw saveFailure(SecureFileError.describe(code))
        }
        // Make the rename itself durable; failing here loses nothing already renamed.
        directory.synchronize()
    }

    /// Creates and removes a temporary file where saves will go; a missing directory passes.
    private func checkSavable() throws(SandboxStateError) {
        let directory: SecureDirectory
        do {
            directory = try SecureDirectory(containing: path, role: Self.role)
        } catch {
            if error.code == ENOENT { return }
            throw saveFailure(error.reason)
        }
        let probe = ".\(SecureDirectory.fileName(of: path)).\(getpid()).probe.tmp"
        do {
            let descriptor = try SecureFile.createExclusively(probe, in: directory, path: path, role: Self.role)
            close(descriptor)
            unlinkat(directory.descriptor, probe, 0)
        } catch {
            throw saveFailure(error.reason)
        }
    }

    private func openDirectory() throws(SandboxStateError) -> SecureDirectory {
        do {
            return try SecureDirectory(containing: path, role: Self.role)
        } catch {
            throw saveFailure(error.reason)
        }
    }

    private func failure(_ reason: String) -> SandboxStateError {
        SandboxStateError(path: path, reason: reason)
    }

    private func saveFailure(_ reason: String) -> SandboxStateError {
        SandboxStateError(path: path, reason: reason, operation: .save)
    }
}

/// Keeps every other process off one state file for as long as this one runs: an
/// exclusive `flock` on `STATE.lock` beside it (created 0600, left in place; the kernel
/// drops the lock when the process ends, even on SIGKILL).
///
/// Two processes that both loaded the file would hand out the same ids and each drop
/// the other's keys on its next save. Refusing the second one up front is simpler than
/// merging and never loses anything silently. The `Sandbox` itself takes no lock, so
/// tests can open one file from several sandboxes in turn within a process.
package final class SandboxStateLock: Sendable {
    private let lock: ExclusiveFileLock

    /// Takes the lock for `statePath`, waiting up to `wait` for another process to let go.
    package init(statePath: String, wait: Duration = .zero) throws(SandboxStateError) {
        let lockPath = statePath + ".lock"
        do {
            lock = try ExclusiveFileLock(path: lockPath, role: "sandbox state lock file", wait: wait)
        } catch {
            switch error {
            case .held:
                throw SandboxStateError(
                    path: statePath,
                    reason: "another process is using it (it holds the lock on \(lockPath)). Two processes on one state file "
                        + "would lose each other's keys; stop the other one, or give this one a state file of its own",
                    operation: .lock)
            case .file(let failure) where failure.code == EACCES || failure.code == EROFS || failure.code == EPERM:
                // The directory is not ours to write: the first save would fail the same way, so say that.
                throw SandboxStateError(
                    path: statePath,
                    reason: "\(failure.reason) (its lock file \(lockPath) cannot be created there); choose a directory you can write",
                    operation: .save)
            case .file(let failure):
                throw SandboxStateError(path: statePath, reason: "\(failure)", operation: .lock)
            }
        }
    }
}
