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
    products: [
        .executable(name: "hyperstack-rpc", targets: ["hyperstack-rpc"]),
        .executable(name: "hyperstack-sandbox", targets: ["hyperstack-sandbox"]),
        .library(name: "JSONRPC", targets: ["JSONRPC"]),
        .library(name: "InfrahubClient", targets: ["InfrahubClient"]),
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
        // C shim → JSON → JSON-RPC → Infrahub client → key store → server → executable.
        // Beside that chain, with no project dependencies of their own: SecureFiles (every file
        // we write, and the secret files we read), LogOutput (the log handlers, on SecureFiles)
        // and CProcessStartup (what runs before the Swift runtime), used by the executables and
        // the sandbox's state file.
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
                "JanssonJSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "JSONRPCStdio",
            dependencies: [
                "JSONRPC",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "InfrahubClient",
            dependencies: [
                "JanssonJSON",
                .product(name: "Logging", package: "swift-log"),
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
                "InfrahubClient",
                "SecureFiles",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SandboxHTTPServer",
            dependencies: [
                "HyperstackSandbox",
                "InfrahubClient",
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
                "InfrahubClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HyperstackRPCServer",
            dependencies: [
                "JanssonJSON",
                "JSONRPC",
                "InfrahubClient",
                "APIKeyStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("openrpc.json")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "hyperstack-rpc",
            dependencies: [
                "JanssonJSON",
                "JSONRPC",
                "JSONRPCStdio",
                "InfrahubClient",
                "HyperstackSandbox",
                "APIKeyStore",
                "HyperstackRPCServer",
                "SecureFiles",
                "LogOutput",
                "CProcessStartup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
                "JanssonJSON",
                "JSONRPC",
                "JSONRPCTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "SecureFilesTests", dependencies: ["SecureFiles"], swiftSettings: strictSettings),
        .testTarget(
            name: "LogOutputTests",
            dependencies: ["LogOutput", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(name: "JanssonJSONTests", dependencies: ["JanssonJSON"], swiftSettings: strictSettings),
        .testTarget(name: "JSONRPCStdioTests", dependencies: ["JSONRPCStdio"], swiftSettings: strictSettings),
        // An in-memory pair of ends and a test session, for the JSON-RPC and server tests.
        .target(
            name: "JSONRPCTestSupport",
            dependencies: ["JSONRPC", "JanssonJSON", .product(name: "Logging", package: "swift-log")],
            path: "Tests/JSONRPCTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JSONRPCTests",
            dependencies: ["JSONRPC", "JSONRPCTestSupport", "JanssonJSON", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "InfrahubClientTests",
            dependencies: [
                "InfrahubClient", "JanssonJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "HyperstackSandboxTests",
            dependencies: [
                "HyperstackSandbox", "SandboxHTTPServer", "InfrahubClient", "JanssonJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "APIKeyStoreTests", dependencies: ["APIKeyStore", "HyperstackSandbox", "InfrahubClient", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSettings),
        .testTarget(
            name: "HyperstackRPCServerTests",
            dependencies: [
                "HyperstackRPCServer", "JSONRPC", "JSONRPCTestSupport", "JanssonJSON", "HyperstackSandbox", "APIKeyStore",
                "InfrahubClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // The executable's own logic: option parsing and the no-argument fast path.
        .testTarget(
            name: "HyperstackRPCCommandTests",
            dependencies: [
                "hyperstack-rpc", "JSONRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
    ],
    swiftLanguageModes: [.v6]
)
