import Credentials
import DaemonWire
import Foundation
import InfrahubWire
import SecureFiles
import Testing
import UnixSockets

#if canImport(Glibc)
import Glibc
#endif

@Suite struct DaemonHelloTests {
    private let session = SessionHello(
        sandbox: false, sandboxState: nil, baseURL: "https://example.test/v1",
        credentials: UpstreamCredentials(apiKey: SecretString("k-123"), accessToken: SecretString("t-456")), cacheTTL: 30,
        pollInterval: 2.5, timeout: 30, rateLimit: 100, maxMessageBytes: 1 << 20, maxInFlight: 64)

    @Test func aSessionHelloRoundTripsAsOneLine() throws {
        let hello = DaemonHello(kind: .session, fingerprint: "abc", session: session)
        let line = hello.encoded()
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false)
        #expect(try DaemonHello(decoding: Array(line.dropLast())) == hello)
        let tokenOnly = SessionHello(
            sandbox: false, sandboxState: nil, baseURL: "u", credentials: UpstreamCredentials(accessToken: SecretString("t")),
            cacheTTL: 1, pollInterval: 0, timeout: 1, rateLimit: 1, maxMessageBytes: 9, maxInFlight: 1)
        let decoded = try DaemonHello(decoding: Array(DaemonHello(kind: .session, fingerprint: "a", session: tokenOnly).encoded().dropLast()))
        #expect(decoded.session?.credentials == tokenOnly.credentials)
    }

    @Test func badHellosAreRefusedWithoutQuotingTheKey() {
        let cases = [
            #"{"hyperstackDaemon":2,"fingerprint":"a","kind":"status"}"#,
            #"{"hyperstackDaemon":1,"kind":"status"}"#,
            #"{"hyperstackDaemon":1,"fingerprint":"a","kind":"reboot"}"#,
            #"{"hyperstackDaemon":1,"fingerprint":"a","kind":"session"}"#,
            #"{"hyperstackDaemon":1,"fingerprint":"a","kind":"session","session":{"sandbox":false,"baseURL":"u","apiKey":"bad key\u0001","cacheTTL":1,"pollInterval":0,"timeout":1,"rateLimit":1,"maxMessageBytes":9,"maxInFlight":1}}"#,
            #"{"hyperstackDaemon":1,"fingerprint":"a","kind":"session","session":{"sandbox":false,"baseURL":"u","accessToken":"bad key\u000a","cacheTTL":1,"pollInterval":0,"timeout":1,"rateLimit":1,"maxMessageBytes":9,"maxInFlight":1}}"#,
            #"{"hyperstackDaemon":1,"fingerprint":"a","kind":"session","session":{"sandbox":false,"baseURL":"u","accessToken":7,"cacheTTL":1,"pollInterval":0,"timeout":1,"rateLimit":1,"maxMessageBytes":9,"maxInFlight":1}}"#,
            #"{"hyperstackDaemon":1,"fingerprint":"a","kind":"session","session":{"sandbox":true,"sandboxState":"relative.json","baseURL":"u","cacheTTL":1,"pollInterval":0,"timeout":1,"rateLimit":1,"maxMessageBytes":9,"maxInFlight":1}}"#,
            "[1]", "not json",
        ]
        for text in cases {
            #expect(throws: DaemonWireError.self) { try DaemonHello(decoding: Array(text.utf8)) }
            do {
                _ = try DaemonHello(decoding: Array(text.utf8))
            } catch {
                #expect(!error.description.contains("bad key"))
            }
        }
    }

    @Test func welcomeAndRefusal() throws {
        let welcome = DaemonWelcome(fingerprint: "f", pid: 42)
        #expect(try DaemonWelcome(decoding: Array(welcome.encoded().dropLast())) == welcome)
        #expect(throws: DaemonWireError("no such store")) {
            try DaemonWelcome(decoding: Array(DaemonWelcome.refusal("no such store").dropLast()))
        }
    }
}

@Suite struct DaemonPathsTests {
    @Test func runtimeDirectoryFirstThenTemporaryDirectoryPerUser() {
        let runtime = DaemonPaths.defaultPaths(fingerprint: "f1") { $0 == "XDG_RUNTIME_DIR" ? "/run/user/7/" : "/ignored" }
        #expect(runtime.socket == "/run/user/7/hyperstack-rpc/daemon-f1.sock")
        #expect(runtime.directory == "/run/user/7/hyperstack-rpc")
        #expect(runtime.daemonLock == runtime.socket + ".lock")
        #expect(runtime.log == runtime.socket + ".log")
        let temporary = DaemonPaths.defaultPaths(fingerprint: "f1") { $0 == "TMPDIR" ? "/var/tmp" : nil }
        #expect(temporary.socket == "/var/tmp/hyperstack-rpc-\(getuid())/daemon-f1.sock")
        let fallback = DaemonPaths.defaultPaths(fingerprint: "f1") { _ in nil }
        #expect(fallback.socket == "/tmp/hyperstack-rpc-\(getuid())/daemon-f1.sock")
    }

}

@Suite struct PrivateDirectoryTests {
    private func scratch() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("private-\(UUID().uuidString)").path
    }

    @Test func aMissingDirectoryIsCreated0700WithItsParents() throws {
        let root = scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try PrivateDirectory.prepare(root + "/a/b", role: "test directory")
        var status = stat()
        #expect(stat(root + "/a/b", &status) == 0)
        #expect(status.st_mode & 0o777 == 0o700)
    }

    @Test func symlinksSharedAndForeignDirectoriesAreRefused() throws {
        let root = scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try PrivateDirectory.prepare(root + "/real", role: "test directory")
        #expect(symlink(root + "/real", root + "/link") == 0)
        #expect(throws: SecureFileError.self) { try PrivateDirectory.check(root + "/link", role: "test directory") }
        #expect(chmod(root + "/real", 0o770) == 0)
        do {
            try PrivateDirectory.check(root + "/real", role: "test directory")
            Issue.record("a group-accessible directory was accepted")
        } catch {
            #expect(error.description.contains("chmod 700"))
        }
        #expect(chmod(root + "/real", 0o700) == 0)
        #expect(FileManager.default.createFile(atPath: root + "/file", contents: nil))
        #expect(throws: SecureFileError.self) { try PrivateDirectory.check(root + "/file", role: "test directory") }
        if geteuid() == 0 {
            #expect(chown(root + "/real", 65534, 65534) == 0)
            #expect(throws: SecureFileError.self) { try PrivateDirectory.check(root + "/real", role: "test directory") }
        }
    }
}

@Suite struct UnixSocketTests {
    @Test func listenConnectAndThePeersUid() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sock-\(UUID().uuidString.prefix(8))").path
        try PrivateDirectory.prepare(root, role: "test directory")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/s.sock"
        let listener = try UnixSocket.listen(path: path)
        defer { close(listener) }
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        let client = try UnixSocket.connect(path: path)
        defer { close(client) }
        let server = try #require(UnixSocket.accept(listener))
        defer { close(server) }
        #expect(UnixSocket.peer(of: server)?.uid == geteuid())
        #expect(UnixSocket.peer(of: server)?.pid == getpid())
        #expect(DescriptorIO.writeAll(client, Array("hello\nrest".utf8)))
        let line = try #require(DescriptorIO.readLine(server, limit: 100, timeout: .seconds(2)))
        #expect(line.line == Array("hello".utf8))
        #expect(line.rest == Array("rest".utf8))
    }

    @Test func noListenerIsRecognised() {
        do {
            _ = try UnixSocket.connect(path: "/nonexistent-\(UUID().uuidString.prefix(8)).sock")
            Issue.record("connected to nothing")
        } catch {
            #expect(error.meansNoListener)
        }
        #expect(throws: SocketError.self) { try UnixSocket.connect(path: "/" + String(repeating: "x", count: 200)) }
    }

    @Test func socketActivationNeedsOurPid() {
        #expect(UnixSocket.activatedListener { ["LISTEN_FDS": "1", "LISTEN_PID": "1"][$0] } == nil)
        #expect(UnixSocket.activatedListener { _ in nil } == nil)
    }
}
