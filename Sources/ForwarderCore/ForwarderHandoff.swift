import DaemonWire
import JSONRPC
import JanssonJSON

/// What the full binary tells the thin forwarder it execs: the greeted daemon connection's
/// hello (the credential inside), where to reconnect, how to frame and log, and which binary
/// starts daemons and private sessions. It travels in a pipe the forwarder inherits and reads
/// to its end, never in argv or the environment, so the credential stays out of `ps`.
package struct ForwarderHandoff: Sendable, Equatable {
    /// Bumped whenever a member changes meaning; a forwarder refuses any other version.
    package static let formatVersion = 1
    /// The largest hand-off either side accepts: a hello and a few paths.
    package static let maxBytes = DaemonHello.maxBytes + (16 << 10)

    package var hello: DaemonHello
    package var endpoint: RemoteEndpoint
    /// The full server binary (`hyperstack-rpc`): `auto` starts it as the daemon, and it
    /// serves the private session when no daemon can be reached again.
    package var serverExecutable: String
    package var framing: Framing
    package var maxMessageBytes: Int
    /// swift-log's name for the level (`info`, `debug`, ...).
    package var logLevel: String
    package var logFile: String?
    /// The server's version, for the status line (SIGUSR1).
    package var version: String

    package init(
        hello: DaemonHello, endpoint: RemoteEndpoint, serverExecutable: String, framing: Framing, maxMessageBytes: Int,
        logLevel: String, logFile: String?, version: String
    ) {
        self.hello = hello
        self.endpoint = endpoint
        self.serverExecutable = serverExecutable
        self.framing = framing
        self.maxMessageBytes = maxMessageBytes
        self.logLevel = logLevel
        self.logFile = logFile
        self.version = version
    }

    package func encoded() -> [UInt8] {
        DaemonLine.encode([
            "hyperstackForwarderHandoff": .int(Int64(Self.formatVersion)),
            "hello": hello.json,
            "socket": .string(endpoint.paths.socket),
            "autoStart": .bool(endpoint.autoStart),
            "serverExecutable": .string(serverExecutable),
            "framing": .string(framing.rawValue),
            "maxMessageBytes": .int(Int64(maxMessageBytes)),
            "logLevel": .string(logLevel),
            "logFile": .string(orNull: logFile),
            "version": .string(version),
        ])
    }

    /// Reads a hand-off, with a message for each way it can be wrong; none quotes the credential.
    package init(decoding bytes: [UInt8]) throws(DaemonWireError) {
        let json = try DaemonLine.decode(bytes)
        guard json["hyperstackForwarderHandoff"]?.intValue == Int64(Self.formatVersion) else {
            throw DaemonWireError("the hand-off comes from another version of hyperstack-rpc")
        }
        func text(_ name: String) throws(DaemonWireError) -> String {
            guard let value = json[name]?.stringValue, !value.isEmpty else {
                throw DaemonWireError("the hand-off's \(name) must be a non-empty string")
            }
            return value
        }
        guard let helloJSON = json["hello"] else { throw DaemonWireError("the hand-off has no hello") }
        hello = try DaemonHello(json: helloJSON)
        guard hello.kind == .session, hello.session != nil else {
            throw DaemonWireError("the hand-off's hello is not a session's")
        }
        let socket = try text("socket")
        guard socket.hasPrefix("/") else { throw DaemonWireError("the hand-off's socket must be an absolute path") }
        guard let autoStart = json["autoStart"]?.boolValue else {
            throw DaemonWireError("the hand-off's autoStart must be a boolean")
        }
        endpoint = RemoteEndpoint(paths: DaemonPaths(socket: socket), autoStart: autoStart)
        serverExecutable = try text("serverExecutable")
        guard serverExecutable.hasPrefix("/") else {
            throw DaemonWireError("the hand-off's serverExecutable must be an absolute path")
        }
        guard let framing = Framing(rawValue: try text("framing")) else {
            throw DaemonWireError("the hand-off's framing must be auto, lsp or ndjson")
        }
        self.framing = framing
        guard let limit = json["maxMessageBytes"]?.intValue, limit > 0, limit <= Int64(Int32.max) else {
            throw DaemonWireError("the hand-off's maxMessageBytes must be a positive integer")
        }
        maxMessageBytes = Int(limit)
        logLevel = try text("logLevel")
        let file = json["logFile"]
        guard file == nil || file!.isNull || file!.stringValue?.isEmpty == false else {
            throw DaemonWireError("the hand-off's logFile must be a path or null")
        }
        logFile = file?.stringValue
        version = try text("version")
    }
}
