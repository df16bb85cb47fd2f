#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import JanssonJSON

/// Reads and writes the state file so that a crash never leaves a half-written file
/// and other local users cannot read it: the new contents go to a temporary file in
/// the same directory (mode 0600), are fsynced, then renamed over the old one.
struct SandboxStateFile: Sendable {
    let path: String

    /// The saved state, or `nil` when the file does not exist yet.
    func load() throws(SandboxStateError) -> SandboxState? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw failure("cannot be opened for reading (\(Self.describe(code)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot be read (\(Self.describe(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
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
            throw failure("could not be serialised (\(error))")
        }
        let directory = Self.directory(of: path)
        let temporary = "\(directory)/.\(Self.fileName(of: path)).\(getpid()).\(UInt32.random(in: .min ... .max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            throw failure("cannot create a temporary file in \(directory) (\(Self.describe(errno)))")
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
        if writeError == 0, fchmod(descriptor, 0o600) != 0 { writeError = errno }
        if writeError == 0, fsync(descriptor) != 0 { writeError = errno }
        close(descriptor)
        if writeError != 0 {
            unlink(temporary)
            throw failure("could not be written (\(Self.describe(writeError)))")
        }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw failure("could not be replaced (\(Self.describe(code)))")
        }
        // Make the rename itself durable; failing here loses nothing already renamed.
        let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private func failure(_ reason: String) -> SandboxStateError {
        SandboxStateError(path: path, reason: reason)
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    private static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
