import Foundation
import SecureFiles
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A fresh private directory (mode 0700), removed by the caller.
private func makeDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("secretfiles-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    return path
}

private func mode(of path: String) -> Int {
    var status = stat()
    _ = lstat(path, &status)
    return Int(status.st_mode) & 0o7777
}

@Suite struct SecretFilePathTests {
    let policy = SecretFilePolicy(secretsDirectory: "/home/me/.local/state/hyperstack-rpc/secrets", allowedDirectories: ["/work/project"])

    @Test func aRelativeNameGoesIntoTheSecretsDirectory() throws {
        let path = try SecretFilePath.resolve("ci/prod.key", policy: policy)
        #expect(path.root == policy.secretsDirectory)
        #expect(path.rootIsSecretsDirectory)
        #expect(path.components == ["ci", "prod.key"])
        #expect(path.path == policy.secretsDirectory + "/ci/prod.key")
        #expect(try SecretFilePath.resolve("./a//b", policy: policy).components == ["a", "b"])
    }

    @Test func anAbsolutePathMustLieUnderAnAllowedDirectory() throws {
        let allowed = try SecretFilePath.resolve("/work/project/keys/ci", policy: policy)
        #expect(allowed.root == "/work/project")
        #expect(!allowed.rootIsSecretsDirectory)
        #expect(allowed.components == ["keys", "ci"])
        let inSecrets = try SecretFilePath.resolve(policy.secretsDirectory + "/x", policy: policy)
        #expect(inSecrets.rootIsSecretsDirectory)
        for outside in ["/etc/passwd", "/work/projectile/x", "/work/project", "/work"] {
            #expect(throws: SecretFileRefusal.self) { try SecretFilePath.resolve(outside, policy: policy) }
        }
    }

    @Test func dotDotEmptyAndDirectoryNamesAreRefused() {
        for bad in ["../x", "a/../../x", "/work/project/../../etc/x", "", "dir/", ".", "a\u{0}b"] {
            #expect(throws: SecretFileRefusal.self, "\(bad.debugDescription)") { try SecretFilePath.resolve(bad, policy: policy) }
        }
    }

    @Test func policyPathsAreMadeAbsoluteAndNormal() {
        let normal = SecretFilePolicy(secretsDirectory: "/a/./b//c/../d/", allowedDirectories: ["/x/y/"])
        #expect(normal.secretsDirectory == "/a/b/d")
        #expect(normal.allowedDirectories == ["/x/y"])
        #expect(SecretFilePolicy(secretsDirectory: "rel").secretsDirectory.hasPrefix("/"))
    }

    @Test func theDefaultDirectoryFollowsXDGStateHome() {
        #expect(SecretFilePolicy.defaultSecretsDirectory(environment: { $0 == "XDG_STATE_HOME" ? "/s" : nil }) == "/s/hyperstack-rpc/secrets")
        let home: (String) -> String? = { ["HOME": "/h", "XDG_STATE_HOME": "relative"][$0] }
        #expect(SecretFilePolicy.defaultSecretsDirectory(environment: home) == "/h/.local/state/hyperstack-rpc/secrets")
    }
}

@Suite struct SecretFileWriterTests {
    @Test func writesANewPrivateFileAndCreatesTheSecretsDirectory0700() throws {
        let base = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let policy = SecretFilePolicy(secretsDirectory: base + "/state/secrets")
        let path = try SecretFilePath.resolve("team/ci.key", policy: policy)
        let directory = try SecretFileWriter.openDirectory(of: path)
        let reserved = try directory.create("ci.key")
        #expect(reserved.path == base + "/state/secrets/team/ci.key")
        try reserved.write(secret: "s3cr3t")
        #expect(try String(contentsOfFile: base + "/state/secrets/team/ci.key", encoding: .utf8) == "s3cr3t\n")
        #expect(mode(of: base + "/state/secrets/team/ci.key") == 0o600)
        #expect(mode(of: base + "/state/secrets") == 0o700)
        #expect(mode(of: base + "/state/secrets/team") == 0o700)
    }

    @Test func anExistingFileIsRefusedAndLeftAlone() throws {
        let base = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try "precious\n".write(toFile: base + "/taken", atomically: false, encoding: .utf8)
        let directory = try SecretFileWriter.openDirectory(of: .inSecretsDirectory("taken", policy: SecretFilePolicy(secretsDirectory: base)))
        let error = #expect(throws: SecureFileError.self) { _ = try directory.create("taken") }
        #expect(error?.code == EEXIST)
        #expect(error?.description.contains("never overwritten") == true)
        #expect(try String(contentsOfFile: base + "/taken", encoding: .utf8) == "precious\n")
    }

    @Test func aSymlinkInPlaceOfTheFileIsRefusedAndItsTargetUntouched() throws {
        let base = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let target = base + "/target"
        #expect(symlink(target, base + "/link") == 0)
        let directory = try SecretFileWriter.openDirectory(of: .inSecretsDirectory("link", policy: SecretFilePolicy(secretsDirectory: base)))
        let error = #expect(throws: SecureFileError.self) { _ = try directory.create("link") }
        #expect(error?.description.contains("symbolic link") == true)
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func aSymlinkedDirectoryComponentIsRefused() throws {
        let base = try makeDirectory()
        let elsewhere = try makeDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: base)
            try? FileManager.default.removeItem(atPath: elsewhere)
        }
        #expect(symlink(elsewhere, base + "/escape") == 0)
        let path = try SecretFilePath.resolve("escape/key", policy: SecretFilePolicy(secretsDirectory: base))
        let error = #expect(throws: SecureFileError.self) { _ = try SecretFileWriter.openDirectory(of: path) }
        #expect(error?.description.contains("symbolic link") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    @Test func aSecretsDirectoryOthersCanEnterIsRefused() throws {
        let base = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(chmod(base, 0o755) == 0)
        let error = #expect(throws: SecureFileError.self) {
            _ = try SecretFileWriter.openDirectory(of: .inSecretsDirectory("k", policy: SecretFilePolicy(secretsDirectory: base)))
        }
        #expect(error?.description.contains("chmod 700") == true)
    }

    @Test func anAllowedDirectoryOthersCanWriteMustBeSticky() throws {
        let base = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/open", withIntermediateDirectories: false)
        #expect(chmod(base + "/open", 0o777) == 0)
        let policy = SecretFilePolicy(secretsDirectory: base + "/secrets", allowedDirectories: [base + "/open"])
        let path = try SecretFilePath.resolve(base + "/open/key", policy: policy)
        #expect(throws: SecureFileError.self) { _ = try SecretFileWriter.openDirectory(of: path) }
        #expect(chmod(base + "/open", 0o1777) == 0)
        let directory = try SecretFileWriter.openDirectory(of: path)
        try directory.create("key").write(secret: "x")
        #expect(mode(of: base + "/open/key") == 0o600)
    }

    @Test func discardRemovesTheReservedFile() throws {
        let base = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let directory = try SecretFileWriter.openDirectory(of: .inSecretsDirectory("k", policy: SecretFilePolicy(secretsDirectory: base)))
        let reserved = try directory.create("k")
        #expect(FileManager.default.fileExists(atPath: base + "/k"))
        reserved.discard()
        #expect(!FileManager.default.fileExists(atPath: base + "/k"))
    }
}
