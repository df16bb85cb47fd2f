import Credentials
import DaemonWire
import Foundation
import Logging
import Testing
@testable import HyperstackDaemon

#if canImport(Glibc)
import Glibc
#endif

/// An MCP session on a daemon connection (here a private session over a socket pair, which
/// runs exactly what the daemon runs): the hello chooses MCP, the frames on the socket are
/// Content-Length ones, and generated secrets go to the directory the hello names.
@Suite struct MCPSessionTests {
    private static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    private func hello(secretsDirectory: String) -> DaemonHello {
        DaemonHello(
            kind: .session, fingerprint: BuildFingerprint.ofThisBuild,
            session: SessionHello(
                sandbox: true, sandboxState: nil, baseURL: "sandbox", credentials: .none, cacheTTL: 30, pollInterval: 0,
                timeout: 5, rateLimit: 500, maxMessageBytes: 1 << 20, maxInFlight: 16,
                clientProtocol: .mcp(inlineSecrets: false),
                secretFiles: SessionHello.SecretLocations(secretsDirectory: secretsDirectory)))
    }

    private func send(_ descriptor: Int32, _ body: String) {
        let frame = Array("Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        _ = frame.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Reads until the buffer holds `count` complete frames; returns their bodies.
    private func frames(_ descriptor: Int32, count: Int, buffer: inout [UInt8]) -> [String] {
        var bodies: [String] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            while let headerEnd = buffer.firstRange(of: Array("\r\n\r\n".utf8)) {
                let header = String(decoding: buffer[..<headerEnd.lowerBound], as: UTF8.self)
                let length = Int(header.split(separator: ":").last!.trimmingCharacters(in: .whitespaces))!
                guard buffer.count >= headerEnd.upperBound + length else { break }
                bodies.append(String(decoding: buffer[headerEnd.upperBound..<(headerEnd.upperBound + length)], as: UTF8.self))
                buffer.removeFirst(headerEnd.upperBound + length)
                if bodies.count == count { return bodies }
            }
            let read = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if read <= 0 { return bodies }
            buffer += chunk[..<read]
        }
    }

    /// Runs blocking work on a thread of its own and waits for its result without holding a
    /// thread of the cooperative pool.
    private func onOwnThread<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }

    @Test func anMCPHelloOpensAnMCPSessionThatWritesSecretsWhereTheHelloSays() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hsd-mcp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: root) }
        let secrets = root.appendingPathComponent("secrets").path
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let (ours, theirs) = (pair[0], pair[1])
        let server = Task { await PrivateSessionServer.serve(descriptor: theirs, fingerprint: BuildFingerprint.ofThisBuild, logger: Self.logger) }

        // The client's side reads with blocking calls, so it runs on a thread of its own: on
        // the cooperative pool (two threads on a 2-core machine) it could starve the server's
        // tasks, and every other suite's.
        let line = hello(secretsDirectory: secrets).encoded()
        let (ack, answers) = await onOwnThread { () -> (String, [String]) in
            _ = line.withUnsafeBytes { write(ours, $0.baseAddress, $0.count) }
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !buffer.contains(UInt8(ascii: "\n")) {
                let read = chunk.withUnsafeMutableBytes { Glibc.read(ours, $0.baseAddress, $0.count) }
                guard read > 0 else { return ("", []) }
                buffer += chunk[..<read]
            }
            let newline = buffer.firstIndex(of: UInt8(ascii: "\n"))!
            let ack = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeFirst(newline + 1)

            send(ours, #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
            send(ours, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            send(ours, #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"generate_api_key","arguments":{"name":"k","secretFile":"k.key"}}}"#)
            // Notifications (list_changed for the new key) come between the answers.
            var answers: [String] = []
            while answers.count < 2 {
                let next = frames(ours, count: 1, buffer: &buffer)
                guard next.count == 1 else { break }
                if next[0].contains(#""id":"#) { answers += next }
            }
            return (ack, answers)
        }
        #expect(ack.contains(#""ok":true"#))
        try #require(answers.count == 2)
        #expect(answers[0].contains(#""protocolVersion":"2025-06-18""#))
        #expect(answers[1].contains(#""isError":false"#))
        #expect(answers[1].contains("\(secrets)/k.key"))

        var status = stat()
        #expect(stat("\(secrets)/k.key", &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        #expect(stat(secrets, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o700)
        let secret = try String(contentsOfFile: "\(secrets)/k.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!secret.isEmpty && !answers[1].contains(secret))

        // MCP has no exit: the end of the input ends the session.
        shutdown(ours, Int32(SHUT_WR))
        await server.value
        close(ours)
    }
}
