import Credentials
import JanssonJSON

/// The first line a forwarder or a control command writes on a daemon connection: which
/// protocol and build it speaks, what it wants, and for a session, the upstream settings
/// and the credentials. The credentials travel here and nowhere else: never in the daemon's
/// argv or environment.
package struct DaemonHello: Sendable, Equatable {
    package enum Kind: String, Sendable {
        /// A JSON-RPC session follows, in Content-Length framing both ways.
        case session
        /// Answer with the status object and close.
        case status
        /// Drain every session and exit.
        case stop
    }

    package var kind: Kind
    package var fingerprint: String
    /// For `.session`: what the store is built from and how the connection is limited.
    package var session: SessionHello?

    package init(kind: Kind, fingerprint: String, session: SessionHello? = nil) {
        self.kind = kind
        self.fingerprint = fingerprint
        self.session = session
    }

    /// A line of at most this many bytes, newline included.
    package static let maxBytes = 64 << 10

    package func encoded() -> [UInt8] { DaemonLine.encode(json) }

    /// The hello as a JSON object, as `encoded()` writes it on one line.
    package var json: JSON {
        var object: JSONObject = [
            "hyperstackDaemon": .int(Int64(BuildFingerprint.daemonProtocolVersion)),
            "fingerprint": .string(fingerprint),
            "kind": .string(kind.rawValue),
        ]
        if let session { object["session"] = session.json }
        return .object(object)
    }

    /// Reads a hello, with a message for each way it can be wrong; none quotes a credential.
    package init(decoding line: [UInt8]) throws(DaemonWireError) {
        try self.init(json: DaemonLine.decode(line))
    }

    /// Reads a hello from its JSON object (`json`), checked as `init(decoding:)` checks a line.
    package init(json: JSON) throws(DaemonWireError) {
        guard json["hyperstackDaemon"]?.intValue == Int64(BuildFingerprint.daemonProtocolVersion) else {
            throw DaemonWireError("the peer speaks another daemon protocol")
        }
        guard let fingerprint = json["fingerprint"]?.stringValue else { throw DaemonWireError("the hello has no fingerprint") }
        guard let kindName = json["kind"]?.stringValue, let kind = Kind(rawValue: kindName) else {
            throw DaemonWireError("the hello asks for nothing this daemon does")
        }
        self.kind = kind
        self.fingerprint = fingerprint
        if kind == .session {
            guard let session = json["session"] else { throw DaemonWireError("a session hello has no session settings") }
            self.session = try SessionHello(json: session)
        }
    }
}

/// What a session needs from the forwarder's options: the upstream, resolved by the
/// forwarder (base URL from the option, `HYPERSTACK_API_URL` or the default; the key and the
/// token from the environment, a file or `initialize`), and the connection's limits.
package struct SessionHello: Sendable, Equatable {
    package var sandbox: Bool
    /// Absolute, so the daemon's working directory does not matter.
    package var sandboxState: String?
    package var baseURL: String
    package var credentials: UpstreamCredentials
    package var cacheTTL: Double
    package var pollInterval: Double
    package var timeout: Double
    package var rateLimit: Int
    package var maxMessageBytes: Int
    package var maxInFlight: Int
    /// What the client speaks. A hello without `protocol` is a JSON-RPC session's, as every
    /// hello was before MCP sessions went through the daemon.
    package var clientProtocol: ClientProtocol
    /// Where generated secrets may be written, as the client resolved them (`--secrets-dir`,
    /// `--allow-secrets-in`, else its own default); `nil`: the daemon's default directory.
    package var secretFiles: SecretLocations?

    package init(
        sandbox: Bool, sandboxState: String?, baseURL: String, credentials: UpstreamCredentials, cacheTTL: Double,
        pollInterval: Double, timeout: Double, rateLimit: Int, maxMessageBytes: Int, maxInFlight: Int,
        clientProtocol: ClientProtocol = .jsonRPC, secretFiles: SecretLocations? = nil
    ) {
        self.sandbox = sandbox
        self.sandboxState = sandboxState
        self.baseURL = baseURL
        self.credentials = credentials
        self.cacheTTL = cacheTTL
        self.pollInterval = pollInterval
        self.timeout = timeout
        self.rateLimit = rateLimit
        self.maxMessageBytes = maxMessageBytes
        self.maxInFlight = maxInFlight
        self.clientProtocol = clientProtocol
        self.secretFiles = secretFiles
    }

    var json: JSON {
        var object: JSONObject = [
            "sandbox": .bool(sandbox), "sandboxState": .string(orNull: sandboxState), "baseURL": .string(baseURL),
            "cacheTTL": .double(cacheTTL),
            "pollInterval": .double(pollInterval), "timeout": .double(timeout), "rateLimit": .int(Int64(rateLimit)),
            "maxMessageBytes": .int(Int64(maxMessageBytes)), "maxInFlight": .int(Int64(maxInFlight)),
        ]
        for credential in CredentialKind.allCases {
            object[credential.optionsMember] = .string(orNull: credentials[credential]?.revealed)
        }
        switch clientProtocol {
        case .jsonRPC: break  // the default: left out, so the line reads as it always did
        case .mcp(let inlineSecrets):
            object["protocol"] = "mcp"
            object["mcp"] = ["inlineSecrets": .bool(inlineSecrets)]
        }
        if let secretFiles { object["secretFiles"] = secretFiles.json }
        return .object(object)
    }

    init(json: JSON) throws(DaemonWireError) {
        func number(_ name: String) throws(DaemonWireError) -> Double {
            guard let value = json[name]?.numberValue, value.isFinite, value >= 0 else {
                throw DaemonWireError("the session setting \(name) must be a non-negative number")
            }
            return value
        }
        func count(_ name: String) throws(DaemonWireError) -> Int {
            guard let value = json[name]?.intValue, value > 0, value <= Int64(Int32.max) else {
                throw DaemonWireError("the session setting \(name) must be a positive integer")
            }
            return Int(value)
        }
        guard let sandbox = json["sandbox"]?.boolValue else { throw DaemonWireError("the session setting sandbox must be a boolean") }
        guard let baseURL = json["baseURL"]?.stringValue else { throw DaemonWireError("the session setting baseURL must be a string") }
        let state = json["sandboxState"]
        guard state == nil || state!.isNull || state!.stringValue?.hasPrefix("/") == true else {
            throw DaemonWireError("the session setting sandboxState must be an absolute path or null")
        }
        var credentials = UpstreamCredentials.none
        for credential in CredentialKind.allCases {
            let value = json[credential.optionsMember]
            guard value == nil || value!.isNull || value!.stringValue != nil else {
                throw DaemonWireError("the session's \(credential.name) must be a string or null")
            }
            // Validated where it is loaded, as every credential is; the reason never quotes it.
            if let text = value?.stringValue {
                do {
                    credentials[credential] = try SecretString(validating: text, as: credential, from: .daemonHello)
                } catch {
                    throw DaemonWireError("the session's \(credential.name) is unusable: \(error.reason)")
                }
            }
        }
        self.sandbox = sandbox
        self.sandboxState = state?.stringValue
        self.baseURL = baseURL
        self.credentials = credentials
        cacheTTL = try number("cacheTTL")
        pollInterval = try number("pollInterval")
        timeout = try number("timeout")
        rateLimit = try count("rateLimit")
        maxMessageBytes = try count("maxMessageBytes")
        maxInFlight = try count("maxInFlight")
        clientProtocol = try ClientProtocol(json: json)
        if let locations = json["secretFiles"], !locations.isNull {
            secretFiles = try SecretLocations(json: locations)
        } else {
            secretFiles = nil
        }
    }
}

extension SessionHello {
    /// The protocol a session's client speaks, which decides the session the daemon opens.
    /// Either way the forwarder and the daemon exchange Content-Length frames; the forwarder
    /// frames the client's side as the client does (NDJSON for MCP).
    package enum ClientProtocol: Sendable, Equatable {
        /// The JSON-RPC protocol of `protocol/`, with its LSP-style lifecycle.
        case jsonRPC
        /// The Model Context Protocol (`hyperstack-rpc mcp`); `inlineSecrets` is `--mcp-inline-secrets`.
        case mcp(inlineSecrets: Bool)

        init(json: JSON) throws(DaemonWireError) {
            switch json["protocol"] {
            case nil, .null?, .string("jsonRPC")?:
                self = .jsonRPC
            case .string("mcp")?:
                guard let inline = json["mcp"]?["inlineSecrets"]?.boolValue else {
                    throw DaemonWireError("an MCP session hello needs mcp.inlineSecrets, a boolean")
                }
                self = .mcp(inlineSecrets: inline)
            default:
                throw DaemonWireError("the session setting protocol must be jsonRPC or mcp")
            }
        }
    }

    /// Where a session's generated secrets may go: absolute, lexically normal paths (no `.`,
    /// `..`, empty component or trailing `/`), resolved in the client's environment, so the
    /// daemon's own working directory and `XDG_STATE_HOME` play no part. The daemon writes the
    /// files as the same user, under the same rules as a server of the client's own
    /// (`SecretFileWriter`); a path it cannot take as it stands is refused in the hello.
    package struct SecretLocations: Sendable, Equatable {
        package var secretsDirectory: String
        package var allowedDirectories: [String]

        package init(secretsDirectory: String, allowedDirectories: [String] = []) {
            self.secretsDirectory = secretsDirectory
            self.allowedDirectories = allowedDirectories
        }

        /// At most this many `--allow-secrets-in` directories, so a hello stays small.
        static let maxAllowedDirectories = 64

        var json: JSON {
            [
                "secretsDir": .string(secretsDirectory),
                "allowSecretsIn": .array(allowedDirectories.map(JSON.string)),
            ]
        }

        init(json: JSON) throws(DaemonWireError) {
            guard let directory = json["secretsDir"]?.stringValue, Self.isNormalAbsolutePath(directory) else {
                throw DaemonWireError("the session setting secretFiles.secretsDir must be a normal absolute path")
            }
            guard let allowed = json["allowSecretsIn"]?.arrayValue, allowed.count <= Self.maxAllowedDirectories else {
                throw DaemonWireError(
                    "the session setting secretFiles.allowSecretsIn must be an array of at most \(Self.maxAllowedDirectories) paths")
            }
            var directories: [String] = []
            for entry in allowed {
                guard let path = entry.stringValue, Self.isNormalAbsolutePath(path) else {
                    throw DaemonWireError("each of secretFiles.allowSecretsIn must be a normal absolute path")
                }
                directories.append(path)
            }
            secretsDirectory = directory
            allowedDirectories = directories
        }

        /// `/` alone, or `/` followed by components that are neither empty, `.` nor `..`, with
        /// no NUL or control character, at most `PATH_MAX` (4096) bytes.
        package static func isNormalAbsolutePath(_ path: String) -> Bool {
            guard path.hasPrefix("/"), path.utf8.count <= 4096 else { return false }
            guard !path.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { return false }
            if path == "/" { return true }
            return path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).allSatisfy {
                component in !component.isEmpty && !component.elementsEqual(".".utf8) && !component.elementsEqual("..".utf8)
            }
        }
    }
}

/// The daemon's one-line answer to a session or stop hello.
package struct DaemonWelcome: Sendable, Equatable {
    package var fingerprint: String
    package var pid: Int32

    package init(fingerprint: String, pid: Int32) {
        self.fingerprint = fingerprint
        self.pid = pid
    }

    package func encoded() -> [UInt8] {
        DaemonLine.encode(["ok": true, "fingerprint": .string(fingerprint), "pid": .int(Int64(pid))])
    }

    /// The refusal line: `{"ok":false,"error":…}`.
    package static func refusal(_ message: String) -> [UInt8] {
        DaemonLine.encode(["ok": false, "error": .string(message)])
    }

    /// Reads a welcome; a refusal throws its message.
    package init(decoding line: [UInt8]) throws(DaemonWireError) {
        let json = try DaemonLine.decode(line)
        guard json["ok"]?.boolValue == true else {
            throw DaemonWireError(json["error"]?.stringValue ?? "the daemon refused the connection")
        }
        guard let fingerprint = json["fingerprint"]?.stringValue, let pid = json["pid"]?.intValue else {
            throw DaemonWireError("the daemon's welcome is malformed")
        }
        self.fingerprint = fingerprint
        self.pid = Int32(truncatingIfNeeded: pid)
    }
}

/// Something on a daemon connection that does not follow the protocol.
package struct DaemonWireError: Error, Sendable, Equatable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// One JSON value per line, compact.
package enum DaemonLine {
    package static func encode(_ json: JSON) -> [UInt8] {
        // Our own values: strings, numbers and booleans, which always serialise.
        var bytes = (try? json.serialized()) ?? Array("{}".utf8)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    package static func decode(_ line: [UInt8]) throws(DaemonWireError) -> JSON {
        let json: JSON
        do {
            json = try JSON.parse(line)
        } catch {
            throw DaemonWireError("the line is not JSON")
        }
        guard json.objectValue != nil else { throw DaemonWireError("the line is not a JSON object") }
        return json
    }
}
