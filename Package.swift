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
    ],
    targets: [
        // C shim → JSON → JSON-RPC → Infrahub client → key store → server → executable.
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
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
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "JanssonJSONTests", dependencies: ["JanssonJSON"], swiftSettings: strictSettings),
        .testTarget(name: "JSONRPCStdioTests", dependencies: ["JSONRPCStdio"], swiftSettings: strictSettings),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC", "JanssonJSON", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSettings),
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
                "HyperstackRPCServer", "JSONRPC", "JanssonJSON", "HyperstackSandbox", "APIKeyStore", "InfrahubClient",
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
