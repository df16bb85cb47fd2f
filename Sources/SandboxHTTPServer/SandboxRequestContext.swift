import Hummingbird
import Logging
import NIOCore

/// Per-request context that keeps the connection's channel, so a dropped-connection
/// fault can close it without writing a response.
struct SandboxRequestContext: InitializableFromSource {
    let channel: any Channel
    let logger: Logger

    init(source: ApplicationRequestContextSource) {
        self.channel = source.channel
        self.logger = source.logger
    }
}
