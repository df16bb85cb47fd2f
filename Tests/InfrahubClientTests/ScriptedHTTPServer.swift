import Locking
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What the scripted server does with one request.
enum ScriptedReply: Sendable {
    /// Answer with this status, headers and body.
    case respond(status: Int, headers: [(String, String)] = [], body: String = "")
    /// Read the request and never answer, so the client times out.
    case hang
    /// Read the request and close the connection without answering.
    case close
    /// Send the status, headers (promising `body`) and only the first `sent` bytes of `body`,
    /// then nothing more: a body that stalls.
    case stallBody(status: Int, body: String, sent: Int)
}

/// One request as the server received it off the wire.
struct RecordedRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(String, String)]
    var body: [UInt8]

    /// Every value of `name`, compared case-insensitively.
    func values(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    func header(_ name: String) -> String? { values(name).first }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A real HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) that answers requests
/// with a fixed script, so the client and its transport are exercised over real sockets.
final class ScriptedHTTPServer: Sendable {
    private struct State {
        var replies: [ScriptedReply]
        var fallback: ScriptedReply
        var requests: [RecordedRequest] = []
    }

    private let state: Lock<State>
    private let channel: any Channel
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    var hits: Int { state.withLock { $0.requests.count } }

    private init(state: State, channel: any Channel, port: Int) {
        self.state = Lock(state)
        self.channel = channel
        self.port = port
    }

    /// Starts a server that replies to the n-th request with `replies[n]`, then with `fallback`.
    static func start(
        _ replies: [ScriptedReply],
        fallback: ScriptedReply = .respond(status: 500, body: #"{"message":"script exhausted"}"#)
    ) async throws -> ScriptedHTTPServer {
        let box = StateBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(next: box.next))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let server = ScriptedHTTPServer(
            state: State(replies: replies, fallback: fallback), channel: channel,
            port: channel.localAddress?.port ?? 0)
        box.server.withLock { $0 = server }
        return server
    }

    func stop() async throws {
        try await channel.close()
    }

    fileprivate func record(_ request: RecordedRequest) -> ScriptedReply {
        state.withLock { state in
            let index = state.requests.count
            state.requests.append(request)
            return index < state.replies.count ? state.replies[index] : state.fallback
        }
    }

    /// Lets the channel initializer reach the server, which exists only once binding succeeded.
    private final class StateBox: Sendable {
        let server = Lock<ScriptedHTTPServer?>(nil)
        var next: @Sendable (RecordedRequest) -> ScriptedReply {
            { [self] request in server.withLock { $0 }?.record(request) ?? .close }
        }
    }
}

/// Collects one request at a time and answers it as the script says.
private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let next: @Sendable (RecordedRequest) -> ScriptedReply
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(next: @escaping @Sendable (RecordedRequest) -> ScriptedReply) { self.next = next }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let request = RecordedRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                body: body)
            reply(next(request), context: context)
        }
    }

    private func reply(_ reply: ScriptedReply, context: ChannelHandlerContext) {
        switch reply {
        case .hang:
            return
        case .close:
            context.close(promise: nil)
        case .respond(let status, let extraHeaders, let text):
            var headers = HTTPHeaders(extraHeaders)
            headers.replaceOrAdd(name: "Content-Length", value: "\(text.utf8.count)")
            let head = HTTPResponseHead(
                version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .stallBody(let status, let text, let sent):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "\(text.utf8.count)")
            let head = HTTPResponseHead(
                version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            let prefix = ByteBuffer(bytes: Array(text.utf8.prefix(sent)))
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(prefix))), promise: nil)
        }
    }
}
