import Hummingbird
import HyperstackSandbox
import Logging

/// Serves a `Sandbox` over real HTTP/1.1, so clients can be tested through their whole
/// network stack: `/v1/api-key...` as upstream, plus `/_sandbox/stats`,
/// `/_sandbox/faults` and `/_sandbox/reset` to steer it.
package struct SandboxHTTPServer: Sendable {
    private let sandbox: Sandbox
    private let host: String
    /// 0 asks the system for a free port; `onListening` reports the one bound.
    private let port: Int
    private let maxBodySize: Int
    private let logger: Logger

    package init(sandbox: Sandbox, host: String = "127.0.0.1", port: Int = 0, maxBodySize: Int = 1 << 20, logger: Logger) {
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.maxBodySize = maxBodySize
        self.logger = logger
    }

    /// Serves until the calling task is cancelled. `onListening` receives the bound port
    /// once connections are accepted.
    package func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onListening: onListening).run()
    }

    /// Serves until SIGTERM or SIGINT, then finishes open requests and returns: the
    /// executable's way of running.
    package func runUntilSignalled(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onListening: onListening).runService()
    }

    private func makeApplication(onListening: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let requestedPort = port
        return Application(
            responder: SandboxResponder(sandbox: sandbox, maxBodySize: maxBodySize),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? requestedPort)
            },
            logger: logger
        )
    }
}
