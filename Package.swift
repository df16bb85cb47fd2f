// swift-tools-version:6.2
import PackageDescription

/// Settings every target shares: Swift 6 language mode plus the upcoming features
/// that keep dependencies explicit.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "hyperstack-rpc",
    platforms: [.macOS(.v14)],
    // Only the executables are products: clients speak JSON-RPC over pipes and nobody links
    // Swift, so every module's API is `package`, free to change with the code that uses it.
    products: [
        .executable(name: "hyperstack-rpc", targets: ["hyperstack-rpc"]),
        .executable(name: "hyperstack-sandbox", targets: ["hyperstack-sandbox"]),
        // Not run by people: `--remote auto` execs it once connected, so an editor's
        // long-lived forwarder is a few MB instead of the whole server.
        .executable(name: "hyperstack-rpc-forwarder", targets: ["hyperstack-rpc-forwarder"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // Two stacks that meet in the server; dependencies point one way, down each stack.
        //   protocol: CJansson → JanssonJSON → JSONRPC (messages, framers, the connection and its
        //             session protocol; fed bytes) → JSONRPCStdio (pipes, writer, signals)
        //   upstream: InfrahubWire (HTTP types, transport protocol, no NIO) → InfrahubClient
        //             (AsyncHTTPClient) and HyperstackSandbox (the emulator) → APIKeyStore (cache)
        //   meeting:  HyperstackProtocol (initialize's options) → HyperstackRPCServer (the
        //             methods and the LSP session over a key store) → HyperstackRPCHost (the
        //             composition root: builds both stacks from Settings) → HyperstackDaemon
        //             (the shared daemon) → HyperstackForwarder (`--remote` in the full binary,
        //             with the in-process fallback) → the hyperstack-rpc executable (options only)
        //   thin:     DaemonWire (paths, hello, welcome) → ForwarderCore (the forwarding
        //             session, from the protocol stack only) → HyperstackForwarder, and the
        //             hyperstack-rpc-forwarder executable, which links nothing of the server
        // Beside them, with no project dependencies of their own: Credentials (the key that never
        // prints, validated once), SecureFiles (every file we write, and the secret files we
        // read), UnixSockets and CBuildIdentity (libc and link.h for the daemon), LogOutput (the
        // log handlers, on SecureFiles), Locking (the one mutex, its condition lock, threads) and
        // CProcessStartup (what runs before the Swift runtime). SandboxHTTPServer serves the
        // emulator over Hummingbird for the hyperstack-sandbox executable.
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        // C code that runs before the Swift runtime starts: it pins the crash reporter's settings
        // (SWIFT_BACKTRACE) and keeps fds 0–2 occupied, so nothing can land on a closed one.
        .target(name: "CProcessStartup"),
        // Opening files without following symlinks, refusing foreign or shared ones, and the
        // exclusive lock on a state file. libc only.
        .target(name: "SecureFiles", swiftSettings: strictSettings),
        // The project's mutex, its condition lock and its I/O threads (libc only).
        .target(name: "Locking", swiftSettings: strictSettings),
        // The API key and the access token as values that never print, and the one place that
        // validates them.
        .target(name: "Credentials", swiftSettings: strictSettings),
        // swift-log handlers for stderr and files that escape control characters in every line.
        .target(
            name: "LogOutput",
            dependencies: ["SecureFiles", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "JanssonJSON",
            dependencies: ["CJansson"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "JSONRPC",
            dependencies: [
                "Locking",
                "JanssonJSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "JSONRPCStdio",
            dependencies: [
                "Locking",
                "JSONRPC",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // Infrahub wire types without NIO (request, response, transport, failures, timestamps, Retry-After): client and sandbox meet here.
        .target(
            name: "InfrahubWire",
            dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "InfrahubClient",
            dependencies: [
                "Locking",
                "Credentials",
                "InfrahubWire",
                "JanssonJSON",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HyperstackSandbox",
            dependencies: [
                "JanssonJSON",
                "InfrahubWire",
                "SecureFiles",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SandboxHTTPServer",
            dependencies: [
                "HyperstackSandbox",
                "InfrahubWire",
                "JanssonJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "APIKeyStore",
            dependencies: [
                "Locking",
                "Credentials",
                "InfrahubWire",
                "InfrahubClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // What an LSP-style client may say in `initialize`, read the same way by the server and
        // by the thin forwarder (which must not link the server).
        .target(
            name: "HyperstackProtocol",
            dependencies: ["Credentials", "JSONRPC", "JanssonJSON"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HyperstackRPCServer",
            dependencies: [
                "Locking",
                "Credentials",
                "HyperstackProtocol",
                "JanssonJSON",
                "JSONRPC",
                "InfrahubClient",
                "APIKeyStore",
                "SecureFiles",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("openrpc.json")],
            swiftSettings: strictSettings
        ),
        // MCP, the second session protocol beside the LSP-style one: the handshake, the four
        // tools, the key resources and their change notifications, over the same key store and
        // JSON-RPC core (issue 13).
        .target(
            name: "HyperstackMCP",
            dependencies: [
                "Locking",
                "Credentials",
                "JanssonJSON",
                "JSONRPC",
                "InfrahubClient",
                "APIKeyStore",
                "HyperstackRPCServer",
                "SecureFiles",
            ],
            swiftSettings: strictSettings
        ),
        // The composition root, where the two stacks meet: builds the upstream (HTTP or the
        // embedded sandbox), the key store and the method table from Settings, opens sessions
        // (a connection and its subscription to key changes) over them, and serves one on stdio
        // or runs one call. HyperstackRPCServer below it stays free of I/O and of the sandbox.
        .target(
            name: "HyperstackRPCHost",
            dependencies: [
                "Credentials",
                "HyperstackProtocol",
                "InfrahubWire",
                "JanssonJSON",
                "JSONRPC",
                "JSONRPCStdio",
                "InfrahubClient",
                "HyperstackSandbox",
                "APIKeyStore",
                "HyperstackRPCServer",
                "HyperstackMCP",
                "SecureFiles",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Unix stream sockets: listen, accept, connect, the peer's uid, socket activation. libc only.
        .target(name: "UnixSockets", swiftSettings: strictSettings),
        // The running program's GNU build-id, from its loaded program headers (link.h is C only).
        .target(name: "CBuildIdentity"),
        // What the daemon and its forwarders agree on: the build fingerprint, the socket's
        // paths, and the hello and welcome lines that open each connection.
        .target(
            name: "DaemonWire",
            dependencies: ["Credentials", "JanssonJSON"],
            swiftSettings: strictSettings
        ),
        // The per-user daemon: the socket, peer checks, sessions over shared stores, status, stop.
        .target(
            name: "HyperstackDaemon",
            dependencies: [
                "DaemonWire",
                "CBuildIdentity",
                "Credentials",
                "HyperstackRPCServer",
                "UnixSockets",
                "SecureFiles",
                "Locking",
                "JanssonJSON",
                "JSONRPC",
                "JSONRPCStdio",
                "APIKeyStore",
                "InfrahubClient",
                "HyperstackSandbox",
                "HyperstackRPCHost",
                "InfrahubWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // The forwarding session itself, lean enough for the thin forwarder executable (no
        // Foundation, NIO or server): the connection and its replay ledger, connecting to and
        // starting the daemon, and the hand-off from the full binary.
        .target(
            name: "ForwarderCore",
            dependencies: [
                "DaemonWire",
                "Credentials",
                "HyperstackProtocol",
                "UnixSockets",
                "SecureFiles",
                "Locking",
                "JanssonJSON",
                "JSONRPC",
                "JSONRPCStdio",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The full binary's side of `--remote`: a stdio session through the daemon (handed to
        // the thin forwarder when it is installed), one-shot calls, the in-process fallback,
        // and the status and stop requests.
        .target(
            name: "HyperstackForwarder",
            dependencies: [
                "ForwarderCore",
                "DaemonWire",
                "HyperstackDaemon",
                "Credentials",
                "UnixSockets",
                "SecureFiles",
                "Locking",
                "JanssonJSON",
                "JSONRPC",
                "JSONRPCStdio",
                "InfrahubClient",
                "HyperstackSandbox",
                "HyperstackRPCServer",
                "HyperstackRPCHost",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Option parsing, logging set-up, and one call into HyperstackRPCHost per subcommand.
        .executableTarget(
            name: "hyperstack-rpc",
            dependencies: [
                "DaemonWire",
                "ForwarderCore",
                "HyperstackDaemon",
                "HyperstackForwarder",
                "UnixSockets",
                "JanssonJSON",
                "JSONRPC",
                "JSONRPCStdio",
                "HyperstackRPCServer",
                "HyperstackRPCHost",
                "HyperstackMCP",
                "SecureFiles",
                "LogOutput",
                "CProcessStartup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The thin forwarder that `--remote auto` execs: ForwarderCore and the stdio loop.
        .executableTarget(
            name: "hyperstack-rpc-forwarder",
            dependencies: [
                "ForwarderCore",
                "DaemonWire",
                "JSONRPC",
                "JSONRPCStdio",
                "LogOutput",
                "CProcessStartup",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hyperstack-sandbox",
            dependencies: [
                "HyperstackSandbox",
                "SandboxHTTPServer",
                "LogOutput",
                "CProcessStartup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // libFuzzer target over the framers and the connection; see Tests/Fuzz/run.sh. Built
        // plainly it replays corpus files, so `swift build` needs no sanitizer flags.
        .executableTarget(
            name: "hyperstack-rpc-fuzz",
            dependencies: [
                "Locking",
                "JanssonJSON",
                "JSONRPC",
                "JSONRPCTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The test suites' one log-capture handler.
        .target(
            name: "LogCaptureSupport",
            dependencies: ["Locking", .product(name: "Logging", package: "swift-log")],
            path: "Tests/LogCaptureSupport",
            swiftSettings: strictSettings),
        .testTarget(name: "SecureFilesTests", dependencies: ["SecureFiles"], swiftSettings: strictSettings),
        .testTarget(
            name: "LogOutputTests",
            dependencies: ["LogOutput", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "DaemonWireTests",
            dependencies: ["DaemonWire", "UnixSockets", "SecureFiles", "Credentials"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "HyperstackDaemonTests",
            dependencies: ["HyperstackDaemon", "DaemonWire", "Credentials", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "ForwarderCoreTests",
            dependencies: ["ForwarderCore", "DaemonWire", "Credentials", "JSONRPC", "JanssonJSON"],
            swiftSettings: strictSettings),
        // InfrahubClient only for SecretRedactor, which checks that no form of the key leaks.
        .testTarget(name: "CredentialsTests", dependencies: ["Credentials", "InfrahubClient"], swiftSettings: strictSettings),
        .testTarget(name: "JanssonJSONTests", dependencies: ["JanssonJSON"], swiftSettings: strictSettings),
        .testTarget(name: "JSONRPCStdioTests", dependencies: ["Locking", "JSONRPCStdio"], swiftSettings: strictSettings),
        // An in-memory pair of ends and a test session, for the JSON-RPC and server tests.
        .target(
            name: "JSONRPCTestSupport",
            dependencies: ["Locking", "JSONRPC", "JanssonJSON", .product(name: "Logging", package: "swift-log")],
            path: "Tests/JSONRPCTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JSONRPCTests",
            dependencies: ["Locking", "JSONRPC", "JSONRPCTestSupport", "JanssonJSON", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "InfrahubWireTests",
            dependencies: ["InfrahubWire", .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "InfrahubClientTests",
            dependencies: [
                "Locking",
                "Credentials", "InfrahubClient", "InfrahubWire", "JanssonJSON", "LogCaptureSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "HyperstackSandboxTests",
            dependencies: [
                "HyperstackSandbox", "SandboxHTTPServer", "InfrahubWire", "JanssonJSON",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // Only SandboxHTTPServerTests, which drives a real HTTP client against the server.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "APIKeyStoreTests",
            dependencies: [
                "Locking",
                "APIKeyStore", "Credentials", "HyperstackSandbox", "InfrahubClient", "InfrahubWire", "LogCaptureSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "HyperstackRPCServerTests",
            dependencies: [
                "Locking",
                "Credentials", "HyperstackProtocol", "HyperstackRPCHost", "HyperstackRPCServer", "JSONRPC", "JSONRPCStdio", "JSONRPCTestSupport", "JanssonJSON",
                "HyperstackSandbox", "APIKeyStore", "InfrahubClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "HyperstackMCPTests",
            dependencies: [
                "HyperstackMCP", "HyperstackRPCServer", "HyperstackRPCHost", "JSONRPC", "JSONRPCTestSupport",
                "JanssonJSON", "APIKeyStore", "InfrahubClient", "SecureFiles",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // The executable's own logic: option parsing and the no-argument fast path.
        .testTarget(
            name: "HyperstackRPCCommandTests",
            dependencies: [
                "hyperstack-rpc", "HyperstackRPCHost", "JSONRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
    ],
    swiftLanguageModes: [.v6]
)
