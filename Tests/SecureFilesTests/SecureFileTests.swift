import Foundation
import SecureFiles
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A fresh private directory (mode 0700), removed by the caller.
private func makeDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("securefiles-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    return path
}

private func write(_ text: String, to path: String, mode: Int = 0o600) throws {
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    #expect(chmod(path, mode_t(mode)) == 0)
}

private func mode(of path: String) -> Int {
    var status = stat()
    _ = lstat(path, &status)
    return Int(status.st_mode) & 0o7777
}

@Suite struct OpenForAppendingTests {
    @Test func createsAMissingFileWithMode0600() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/new.log"
        let descriptor = try SecureFile.openForAppending(path, role: "log file")
        close(descriptor)
        #expect(mode(of: path) == 0o600)
    }

    @Test func appendsToOurOwnPrivateFile() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ours.log"
        try write("first\n", to: path)
        let descriptor = try SecureFile.openForAppending(path, role: "log file")
        _ = "second\n".withCString { Glibc.write(descriptor, $0, 7) }
        close(descriptor)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first\nsecond\n")
    }

    @Test func refusesASymlinkAndLeavesItsTargetAlone() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/target"
        try write("precious\n", to: target, mode: 0o644)
        let link = directory + "/link.log"
        #expect(symlink(target, link) == 0)
        let error = #expect(throws: SecureFileError.self) { try SecureFile.openForAppending(link, role: "log file") }
        #expect(error?.description.contains(link) == true)
        #expect(error?.description.contains("symbolic link") == true)
        #expect(mode(of: target) == 0o644)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
    }

    @Test func refusesAFileOthersCanReadWithoutChangingIt() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/open.log"
        try write("", to: path, mode: 0o666)
        let error = #expect(throws: SecureFileError.self) { try SecureFile.openForAppending(path, role: "log file") }
        #expect(error?.description.contains("0666") == true)
        #expect(error?.description.contains("chmod 600") == true)
        #expect(mode(of: path) == 0o666)
    }

    @Test func refusesAFileWithASecondLink() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/linked.log"
        try write("", to: path)
        #expect(link(path, directory + "/other-name") == 0)
        let error = #expect(throws: SecureFileError.self) { try SecureFile.openForAppending(path, role: "log file") }
        #expect(error?.reason.contains("hard links") == true)
    }

    @Test func refusesADirectoryOrAFIFOWithoutBlocking() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: SecureFileError.self) { try SecureFile.openForAppending(directory + "/", role: "log file") }
        let fifo = directory + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: SecureFileError.self) { try SecureFile.openForAppending(fifo, role: "log file") }
    }

    @Test func refusesADirectoryOthersCanWriteUnlessSticky() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(chmod(directory, 0o777) == 0)
        let error = #expect(throws: SecureFileError.self) { try SecureFile.openForAppending(directory + "/x.log", role: "log file") }
        #expect(error?.reason.contains("not sticky") == true)
        #expect(chmod(directory, 0o1777) == 0)
        close(try SecureFile.openForAppending(directory + "/x.log", role: "log file"))
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to give a file away"))
    func refusesAnotherUsersFileAndItsDirectory() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/foreign.log"
        try write("theirs\n", to: path)
        #expect(chown(path, 4242, 4242) == 0)
        let error = #expect(throws: SecureFileError.self) { try SecureFile.openForAppending(path, role: "log file") }
        #expect(error?.reason.contains("uid 4242") == true)

        let theirDirectory = directory + "/theirs"
        try FileManager.default.createDirectory(atPath: theirDirectory, withIntermediateDirectories: false)
        #expect(chown(theirDirectory, 4242, 4242) == 0)
        let refused = #expect(throws: SecureFileError.self) { try SecureFile.openForAppending(theirDirectory + "/x.log", role: "log file") }
        #expect(refused?.reason.contains("belongs to") == true)
    }
}

@Suite struct ReadSecretTests {
    @Test func readsAPrivateFileWithoutWarning() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/key"
        try write("k3y\n", to: path)
        let secret = try SecureFile.readSecret(path, role: "API key file")
        #expect(secret.bytes == Array("k3y\n".utf8))
        #expect(secret.warning == nil)
    }

    @Test func warnsAboutAFileOthersCanReadAndNamesIt() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/key"
        try write("k3y\n", to: path, mode: 0o644)
        let secret = try SecureFile.readSecret(path, role: "API key file")
        #expect(secret.bytes == Array("k3y\n".utf8))
        #expect(secret.warning?.contains(path) == true)
        #expect(secret.warning?.contains("k3y") == false)
    }

    @Test func refusesASymlinkATooLargeFileAndAMissingOne() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write("k3y\n", to: directory + "/real")
        #expect(symlink(directory + "/real", directory + "/link") == 0)
        #expect(throws: SecureFileError.self) { try SecureFile.readSecret(directory + "/link", role: "API key file") }
        try write(String(repeating: "x", count: 2048), to: directory + "/big")
        #expect(throws: SecureFileError.self) { try SecureFile.readSecret(directory + "/big", role: "API key file", limit: 1024) }
        let missing = #expect(throws: SecureFileError.self) { try SecureFile.readSecret(directory + "/none", role: "API key file") }
        #expect(missing?.code == ENOENT)
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to give a file away"))
    func refusesAnotherUsersFileWithoutQuotingIt() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/key"
        try write("their-secret\n", to: path)
        #expect(chown(path, 4242, 4242) == 0)
        let error = #expect(throws: SecureFileError.self) { try SecureFile.readSecret(path, role: "API key file") }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("their-secret") == false)
    }
}

@Suite struct OpenOwnedForReadingTests {
    @Test func missingIsNilAndASymlinkIsRefused() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try SecureFile.openOwnedForReading(directory + "/none.json", role: "state file") == nil)
        try write("{}", to: directory + "/real.json")
        #expect(symlink(directory + "/real.json", directory + "/link.json") == 0)
        #expect(throws: SecureFileError.self) { try SecureFile.openOwnedForReading(directory + "/link.json", role: "state file") }
        let descriptor = try #require(try SecureFile.openOwnedForReading(directory + "/real.json", role: "state file"))
        close(descriptor)
    }
}

@Suite struct ExclusiveFileLockTests {
    @Test func aSecondHolderIsRefusedUntilTheFirstLetsGo() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/state.lock"
        var first: ExclusiveFileLock? = try ExclusiveFileLock(path: path, role: "lock file")
        #expect(throws: ExclusiveFileLock.Failure.held) { try ExclusiveFileLock(path: path, role: "lock file") }
        #expect(throws: ExclusiveFileLock.Failure.held) { try ExclusiveFileLock(path: path, role: "lock file", wait: .milliseconds(100)) }
        withExtendedLifetime(first) {}
        first = nil
        _ = try ExclusiveFileLock(path: path, role: "lock file")
        #expect(mode(of: path) == 0o600)
    }
}
