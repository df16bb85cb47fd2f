import Credentials
import DaemonWire
import ForwarderCore
import Foundation
import HyperstackDaemon
import HyperstackRPCHost
import HyperstackRPCServer
import JSONRPC
import JSONRPCStdio
import JanssonJSON
import Logging
import SecureFiles
import UnixSockets

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--remote auto` and `--remote unix:PATH`: serve a client through the shared daemon,
/// as a stdio session (`serveStdio`) or one call (`call`). With no daemon reachable or
/// startable within 3 s, both serve in this process, as without `--remote`, and say so
/// once on stderr.
///
/// A stdio session, once connected, is handed to the thin forwarder (`ThinForwarder`) when
/// one is installed with this binary: an editor keeps a forwarder for hours, and the thin
/// one is a few MB where this binary's pages are tens.
package enum Forwarder {
    /// How long a forwarder looks for (and starts) a daemon before serving on its own.
    static let connectTimeout = Duration.seconds(3)

    /// - Parameters:
    ///   - secretFiles: `--secrets-dir` and `--allow-secrets-in` as this process resolved them
    ///     (default directory included), which the daemon's session writes secrets under.
    ///   - sessionProtocol: JSON-RPC (either framing) or MCP (NDJSON).
    package static func serveStdio(
        _ settings: Settings, endpoint: RemoteEndpoint, secretFiles: SecretFilePolicy,
        protocol sessionProtocol: SessionProtocol = .jsonRPC, logger: Logger
    ) async throws -> Int32 {
        let hello = DaemonHello(
            kind: .session, fingerprint: BuildFingerprint.ofThisBuild,
            session: try sessionHello(settings, secretFiles: secretFiles, protocol: sessionProtocol))
        let connector = connector(endpoint, logger: logger)
        let descriptor: Int32
        do {
            descriptor = try connector.open(hello, timeout: connectTimeout)
        } catch {
            StandardError.write("hyperstack-rpc: no shared daemon (\(error)); serving in this process instead\n")
            return try await HyperstackServer.serveStdio(
                settings, secretFiles: secretFiles, protocol: sessionProtocol, logger: logger)
        }
        // MCP's stdio transport is NDJSON; `mcp` refuses any other --framing.
        let framing: Framing = sessionProtocol == .jsonRPC ? settings.framing : .ndjson
        if let thin = ThinForwarder.locate(besides: connector.serverExecutable) {
            let handoff = ForwarderHandoff(
                hello: hello, endpoint: endpoint, serverExecutable: connector.serverExecutable, framing: framing,
                maxMessageBytes: settings.maxMessageBytes, logLevel: (settings.logLevel ?? .info).rawValue,
                logFile: settings.logFile, version: ServerIdentity.version)
            let reason = ThinForwarder.exec(thin, daemon: descriptor, handoff: handoff)
            logger.warning("Forwarding in this process instead of the thin forwarder: \(reason)")
        }
        var details = [("upstream", "shared daemon at \(endpoint.paths.socket)")]
        if case .mcp = sessionProtocol { details.append(("protocol", "mcp")) }
        let stdio = StdioServer(name: ServerIdentity.name, version: ServerIdentity.version, details: details, logger: logger)
        let writer = try stdio.takeOverStandardOutput()
        let connection = ForwardingConnection(
            descriptor: descriptor, hello: hello, connector: connector,
            limits: FramingLimits(maxMessageBytes: settings.maxMessageBytes), framing: framing,
            writer: writer, termination: stdio.termination, logger: logger,
            fallback: { try InProcessSession(logger: logger) })
        connection.start()
        return await stdio.serve(connection, writer: writer)
    }

    /// One request through the daemon's warm store, printed as `call` prints it. A read is
    /// asked again on a new connection if the daemon goes away before answering; a mutation
    /// is not, and gets 1504.
    package static func call(
        _ method: String, params: JSON?, settings: Settings, endpoint: RemoteEndpoint, secretFiles: SecretFilePolicy,
        logger: Logger
    ) async throws -> CallOutcome {
        signal(SIGPIPE, SIG_IGN)
        let hello = DaemonHello(
            kind: .session, fingerprint: BuildFingerprint.ofThisBuild,
            session: try sessionHello(settings, secretFiles: secretFiles, protocol: .jsonRPC))
        let connector = connector(endpoint, logger: logger)
        var request: JSONObject = ["jsonrpc": "2.0", "id": 1, "method": .string(method)]
        if let params { request["params"] = params }
        let frame = encodeFrame(body: try JSON.object(request).serialized(), framing: .lsp)
        for attempt in 1...2 {
            let descriptor: Int32
            do {
                descriptor = try connector.open(hello, timeout: connectTimeout)
            } catch {
                StandardError.write("hyperstack-rpc: no shared daemon (\(error)); running the call in this process instead\n")
                return try await HyperstackServer.call(
                    method, params: params, settings: settings, secretFiles: secretFiles, logger: logger)
            }
            defer { close(descriptor) }
            if DescriptorIO.writeAll(descriptor, frame), let response = readResponse(descriptor) {
                return try CallOutcome.deliver(response, of: method)
            }
            if SessionRules.jsonRPC.isMutation(method, params: params) || attempt == 2 {
                let body = ForwarderLedger.outcomeUnknown(id: Array("1".utf8), method: method)
                return try CallOutcome.deliver(try JSON.parse(body), of: method)
            }
        }
        fatalError("unreachable: the loop returns on its last attempt")
    }

    /// Connects as this build, and starts this binary as the daemon.
    private static func connector(_ endpoint: RemoteEndpoint, logger: Logger) -> DaemonConnector {
        DaemonConnector(
            endpoint: endpoint, fingerprint: BuildFingerprint.ofThisBuild,
            serverExecutable: DaemonLauncher.ownExecutable() ?? "/proc/self/exe", logger: logger)
    }

    /// The response to id 1, skipping the change notifications before it; `nil` if the
    /// connection ends first.
    private static func readResponse(_ descriptor: Int32) -> JSON? {
        var framer = ContentLengthFramer(limits: FramingLimits(maxMessageBytes: Int.max >> 1))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { DescriptorIO.readSome(descriptor, into: $0) }
            guard count > 0 else { return nil }
            var found: JSON?
            for event in framer.feed(chunk[..<count]) {
                if case .message(let body) = event, let json = try? JSON.parse(body), json["id"]?.intValue == 1 {
                    found = json
                }
            }
            if let found { return found }
        }
    }

    /// The session's settings as the daemon needs them: the base URL resolved here, the
    /// state file made absolute, the key and the token loaded and checked here, and the
    /// secrets directories as this process resolved them (absolute and normal, from this
    /// process's working directory and `XDG_STATE_HOME`), with the protocol the client speaks.
    static func sessionHello(
        _ settings: Settings, secretFiles: SecretFilePolicy, protocol sessionProtocol: SessionProtocol
    ) throws -> SessionHello {
        let clientProtocol: SessionHello.ClientProtocol
        switch sessionProtocol {
        case .jsonRPC: clientProtocol = .jsonRPC
        case .mcp(let inlineSecrets): clientProtocol = .mcp(inlineSecrets: inlineSecrets)
        }
        return SessionHello(
            sandbox: settings.sandbox, sandboxState: settings.sandboxState.map(absolute),
            baseURL: Upstream.baseURL(settings: settings),
            credentials: settings.sandbox ? .none : try UpstreamCredentials.load(settings: settings),
            cacheTTL: settings.cacheTTL, pollInterval: settings.pollInterval, timeout: settings.timeout,
            rateLimit: settings.rateLimit, maxMessageBytes: settings.maxMessageBytes, maxInFlight: settings.maxInFlight,
            clientProtocol: clientProtocol,
            secretFiles: SessionHello.SecretLocations(
                secretsDirectory: secretFiles.secretsDirectory, allowedDirectories: secretFiles.allowedDirectories))
    }

    private static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }
}
