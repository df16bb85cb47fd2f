import Credentials
import DaemonWire
import Foundation
import JSONRPC
import Testing
@testable import ForwarderCore

#if canImport(Glibc)
import Glibc
#endif

/// The hand-off from the full binary to the thin forwarder: all it needs, and nothing it
/// should not trust.
@Suite struct ForwarderHandoffTests {
    private let key = "hsk-handoff-0123456789abcdef"

    private func handoff() -> ForwarderHandoff {
        let session = SessionHello(
            sandbox: false, sandboxState: nil, baseURL: "https://example.test/v1",
            credentials: UpstreamCredentials(apiKey: SecretString(key), accessToken: SecretString(key + "-token")),
            cacheTTL: 30, pollInterval: 2.5, timeout: 30, rateLimit: 100, maxMessageBytes: 1 << 20, maxInFlight: 64)
        return ForwarderHandoff(
            hello: DaemonHello(kind: .session, fingerprint: "0123456789abcdef", session: session),
            endpoint: RemoteEndpoint(paths: DaemonPaths(socket: "/run/user/1/hyperstack-rpc/daemon-x.sock"), autoStart: true),
            serverExecutable: "/usr/bin/hyperstack-rpc", framing: .auto, maxMessageBytes: 1 << 20, logLevel: "debug",
            logFile: nil, version: "1.2.3")
    }

    @Test func itRoundTripsThroughItsEncoding() throws {
        let original = handoff()
        #expect(try ForwarderHandoff(decoding: original.encoded()) == original)
        var withFile = original
        withFile.logFile = "/var/log/forwarder.log"
        withFile.framing = .ndjson
        #expect(try ForwarderHandoff(decoding: withFile.encoded()) == withFile)
    }

    @Test func aBadHandoffIsRefusedWithoutQuotingTheKey() throws {
        let good = String(decoding: handoff().encoded(), as: UTF8.self)
        let broken = [
            good.replacingOccurrences(of: #""hyperstackForwarderHandoff":1"#, with: #""hyperstackForwarderHandoff":2"#),
            good.replacingOccurrences(of: #""socket":"/run"#, with: #""socket":"run"#),
            good.replacingOccurrences(of: #""serverExecutable":"/usr/bin/hyperstack-rpc""#, with: #""serverExecutable":"hyperstack-rpc""#),
            good.replacingOccurrences(of: #""framing":"auto""#, with: #""framing":"xml""#),
            good.replacingOccurrences(of: key, with: key + "\\n"),
            good.replacingOccurrences(of: #""kind":"session""#, with: #""kind":"status""#),
            "[]", "",
        ]
        for text in broken {
            #expect(text != good)
            do {
                _ = try ForwarderHandoff(decoding: Array(text.utf8))
                Issue.record("accepted \(text)")
            } catch {
                #expect(!error.description.contains(key), "\(error)")
            }
        }
    }

    @Test func theHandoffPipeIsReadToItsEndAndClosed() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let bytes = handoff().encoded()
        #expect(bytes.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) } == bytes.count)
        close(ends[1])
        #expect(try ThinForwarder.receive(from: ends[0]) == bytes)
        #expect(fcntl(ends[0], F_GETFD) == -1, "the read end is closed")
    }

    @Test func onlyATrustworthyExecutableIsUsed() throws {
        let directory = "/tmp/thin-forwarder-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdir(directory, 0o700) == 0)
        defer { _ = rmdir(directory) }
        let path = directory + "/" + ThinForwarder.executableName
        #expect(ThinForwarder.locate(besides: directory + "/hyperstack-rpc") == nil)
        let descriptor = open(path, O_CREAT | O_WRONLY | O_EXCL, 0o700)
        #expect(descriptor >= 0)
        close(descriptor)
        defer { _ = unlink(path) }
        #expect(ThinForwarder.locate(besides: directory + "/hyperstack-rpc") == path)
        #expect(chmod(path, 0o722) == 0)
        #expect(ThinForwarder.locate(besides: directory + "/hyperstack-rpc") == nil, "others may write it")
        #expect(chmod(path, 0o600) == 0)
        #expect(ThinForwarder.locate(besides: directory + "/hyperstack-rpc") == nil, "not executable")
    }
}
