import DaemonWire
import HyperstackProtocol
import Credentials
import JSONRPC
import JSONRPCStdio
import JanssonJSON
import Locking
import Logging
import Synchronization
import UnixSockets

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The forwarder's side of one client's session: the client sees the protocol it would see
/// from a server of its own, while a shared daemon does the work.
///
/// Client input is framed here, with the server's own framer and limits, so framing errors
/// get the same answers; each message is noted in the `ForwarderLedger` and sent on in
/// Content-Length framing. A thread of its own reads the daemon's answers, notes them, and
/// writes each to the client in the client's framing, whole frames only. When the daemon
/// goes away, that thread opens a new connection (starting a daemon for `auto`, or falling
/// back to a private session) and replays what the ledger says.
///
/// Locks: `link` is held to send and to replace the connection, so nothing is sent between
/// a loss and its replay; `ledger` is taken inside it, or alone by the answer reader.
package final class ForwardingConnection: StdioConnection {
    private struct Link {
        var descriptor: Int32
        var generation: UInt64 = 0
        /// The client's input ended: the daemon gets end of input too, and its close after
        /// answering everything ends the session.
        var finishing = false
        /// A reconnect happened after the input ended: the next close is the last.
        var reconnectedWhileFinishing = false
        /// The client sent `exit`, with this status: once the daemon has answered what came
        /// before it and closed the session, the forwarder exits with it.
        var exitStatus: Int32?
        /// Serving through a private session after the daemon could not be reached again.
        var privateSession: (any PrivateSession)?
    }

    private struct Input {
        /// Moved out while it feeds, so the handlers can update the rest.
        var framer: AutoFramer?
        var sentRequest = false
        var shutdownSeen = false
    }

    private let link: Lock<Link>
    private let rules: SessionRules
    private let ledger: Lock<ForwarderLedger>
    private let input: Lock<Input>
    private let replyFraming = Lock<Framing?>(nil)
    private let finished = OneTimeSignal()
    private let hello: Lock<DaemonHello>
    private let connector: DaemonConnector
    private let fallback: @Sendable () throws -> any PrivateSession
    private let writer: FrameWriter
    private let termination: Termination
    private let parseOptions: JSONParseOptions
    private let logger: Logger

    /// - Parameters:
    ///   - descriptor: a connection to the daemon whose welcome accepted `hello`.
    ///   - fallback: the session to use when no daemon can be reached again.
    package init(
        descriptor: Int32, hello: DaemonHello, connector: DaemonConnector, limits: FramingLimits, framing: Framing,
        writer: FrameWriter, termination: Termination, logger: Logger,
        fallback: @escaping @Sendable () throws -> any PrivateSession
    ) {
        link = Lock(Link(descriptor: descriptor))
        rules = SessionRules(for: hello.session?.clientProtocol ?? .jsonRPC)
        ledger = Lock(ForwarderLedger(rules: rules))
        input = Lock(Input(framer: AutoFramer(framing: framing, limits: limits)))
        self.hello = Lock(hello)
        self.connector = connector
        self.fallback = fallback
        self.writer = writer
        self.termination = termination
        parseOptions = ConnectionConfiguration(framing: framing).parseOptions
        self.logger = logger
    }

    /// Starts reading the daemon's answers.
    package func start() {
        DetachedThread.start(name: "hs-rpc forward") { [self] in readAnswers() }
    }

    package var framing: Framing? { replyFraming.withLock { $0 } }

    // MARK: Client to daemon

    package func receive(_ bytes: UnsafeRawBufferPointer) {
        // The reader thread is the only caller; the lock only makes that visible to Swift.
        input.withLock { input in
            var framer = input.framer.take()!
            defer { input.framer = framer }
            if replyFraming.withLock({ $0 }) == nil, let decided = framer.decide(from: bytes) {
                replyFraming.withLock { $0 = decided }
            }
            var pending: [(message: ClientMessage, body: [UInt8])] = []
            var exitStatus: Int32?
            framer.feed(
                bytes,
                onMessage: { body in
                    let message = ClientMessage(body: body, options: parseOptions, rules: rules)
                    if let credentials = observe(message, input: &input, exitStatus: &exitStatus) {
                        // The session's store depends on the key and the token: reconnect with
                        // them, before initialize.
                        forward(pending)
                        pending = []
                        rebind(credentials: credentials)
                    }
                    pending.append((message, Array(body)))
                },
                onError: { error in
                    logger.warning("Bad input from the client: \(error)")
                    answerClient(AnswerBody.failure(id: .null, error: error.answer))
                })
            forward(pending)
            if let exitStatus { exitAfterAnswers(status: exitStatus) }
        }
    }

    /// What the forwarder itself acts on in a JSON-RPC session: the parent's pid in
    /// `initialize`, the exit status `exit` implies (MCP has neither). Returns the session's credentials with initialize's in place, when
    /// initialize brings a key or a token that differs from the session's.
    private func observe(_ message: ClientMessage, input: inout Input, exitStatus: inout Int32?) -> UpstreamCredentials? {
        switch message {
        case .request(let request):
            defer { input.sentRequest = true }
            let rule = rules.request(request.method, message: request.json)
            if rule.state == .closesWhenAnswered { input.shutdownSeen = true }
            guard rule.state == .opens, rules.initializeCarriesOptions, !input.sentRequest,
                let options = try? InitializeOptions(params: request.json?["params"])
            else { return nil }
            if let processID = options.processID { termination.watchParent(processID: processID) }
            guard let current = hello.withLock({ $0.session?.credentials }) else { return nil }
            let next = current.overridden(by: options.credentials)
            return next == current ? nil : next
        case .notification(let method, let json):
            if rules.notification(method, message: json) == .exits { exitStatus = input.shutdownSeen ? 0 : 1 }
        case .batch:
            input.sentRequest = true
        case .other:
            break
        }
        return nil
    }

    /// `exit` was forwarded: the daemon answers what came before it, then closes the
    /// session, and that close ends this process (at most `exitGrace` later in any case).
    private func exitAfterAnswers(status: Int32) {
        link.withLock { link in
            link.exitStatus = status
            _ = Glibc.shutdown(link.descriptor, Int32(SHUT_WR))
        }
        let termination = termination
        Task {
            try? await Task.sleep(for: Self.exitGrace)
            termination.request(.exitNotification(status))
        }
    }

    /// How long `exit` waits for the daemon's last answers.
    static let exitGrace = Duration.seconds(5)

    /// Notes `messages` in the ledger and sends them, as one step under the link lock, so a
    /// reconnect replays each either from the ledger or not at all. A failed write is left
    /// to the answer reader, which sees the connection end and replays.
    private func forward(_ messages: [(message: ClientMessage, body: [UInt8])]) {
        guard !messages.isEmpty else { return }
        var frames: [UInt8] = []
        if messages.count == 1 {
            frames = encodeFrame(body: messages[0].body, framing: .lsp)
        } else {
            for entry in messages { frames += encodeFrame(body: entry.body, framing: .lsp) }
        }
        link.withLock { link in
            ledger.withLock { ledger in
                for entry in messages { ledger.forwarded(entry.message, body: entry.body) }
            }
            _ = DescriptorIO.writeAll(link.descriptor, frames)
        }
    }

    private func rebind(credentials: UpstreamCredentials) {
        var next = hello.withLock { $0 }
        next.session?.credentials = credentials
        link.withLock { link in
            guard let descriptor = try? connector.open(next, timeout: .seconds(3)) else {
                logger.error(
                    "Could not reconnect to the daemon with initialize's credentials; the session keeps the first ones")
                return
            }
            hello.withLock { $0 = next }
            _ = Glibc.shutdown(link.descriptor, Int32(SHUT_RDWR))
            link.descriptor = descriptor
            link.generation += 1
        }
    }

    // MARK: Daemon to client

    private func readAnswers() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        var (descriptor, generation) = link.withLock { ($0.descriptor, $0.generation) }
        var framer = ContentLengthFramer(limits: FramingLimits(maxMessageBytes: Int.max >> 1))
        while true {
            writer.waitForCapacity()
            let count = DescriptorIO.readSome(descriptor, into: buffer)
            if count > 0 {
                writer.cork()
                framer.feed(
                    UnsafeRawBufferPointer(rebasing: buffer[..<count]),
                    onMessage: { body in deliver(body) },
                    onError: { error in logger.error("Unreadable frame from the daemon: \(error)") })
                writer.uncork()
                continue
            }
            // The connection ended: replaced on purpose, finished, or the daemon is gone.
            let next = link.withLock { link -> (Int32, UInt64)? in
                if link.generation != generation { return (link.descriptor, link.generation) }
                if let status = link.exitStatus {
                    termination.request(.exitNotification(status))
                    return nil
                }
                if link.finishing {
                    // Answered everything, or a second close after the input ended: the daemon
                    // drained the session, and what it left unanswered stays so (MCP answers
                    // nothing it cancels at the drain timeout; replaying would only repeat it).
                    if ledger.withLock({ $0.isIdle }) || link.reconnectedWhileFinishing { return nil }
                    link.reconnectedWhileFinishing = true
                }
                return reconnect(&link)
            }
            close(descriptor)
            guard let next else {
                finished.signal()
                return
            }
            (descriptor, generation) = next
            framer = ContentLengthFramer(limits: FramingLimits(maxMessageBytes: Int.max >> 1))
        }
    }

    private func deliver(_ body: UnsafeRawBufferPointer) {
        let reply = DaemonReply(body: body)
        switch ledger.withLock({ $0.received(reply, body: body) }) {
        case .forward: writer.write(encodeFrame(body: body, framing: replyFraming.withLock { $0 } ?? .lsp))
        case .drop: break
        case .forwardInstead(let replacement): answerClient(replacement)
        }
    }

    private func answerClient(_ body: [UInt8]) {
        writer.write(encodeFrame(body: body, framing: replyFraming.withLock { $0 } ?? .lsp))
    }

    /// With the link locked: a new connection (a daemon started again, or a session in this
    /// process), the ledger's replay sent on it, and its local answers written.
    private func reconnect(_ link: inout Link) -> (Int32, UInt64)? {
        logger.warning("The connection to the shared daemon broke; reconnecting")
        let descriptor: Int32
        let current = hello.withLock { $0 }
        if let opened = try? connector.open(current, timeout: .seconds(3)) {
            descriptor = opened
        } else {
            do {
                let session = try fallback()
                descriptor = try connector.greet(session.descriptor, current)
                StandardError.write("hyperstack-rpc: the shared daemon is gone and none could be started; \(session.servingNote)\n")
                link.privateSession = session
            } catch {
                logger.error("No daemon and no private session could be started: \(error)")
                termination.request(.outputClosed)
                return nil
            }
        }
        let plan = ledger.withLock { $0.replay() }
        var bytes: [UInt8] = []
        for body in plan.resend { bytes += encodeFrame(body: body, framing: .lsp) }
        _ = DescriptorIO.writeAll(descriptor, bytes)
        if link.finishing { _ = Glibc.shutdown(descriptor, Int32(SHUT_WR)) }
        for answer in plan.answers { answerClient(answer) }
        link.descriptor = descriptor
        link.generation += 1
        return (descriptor, link.generation)
    }

    // MARK: End of input

    package func finishInput(timeout: Duration) async {
        link.withLock { link in
            link.finishing = true
            _ = Glibc.shutdown(link.descriptor, Int32(SHUT_WR))
        }
        await finished.wait(timeout: timeout)
    }
}

/// Where a forwarder goes when no daemon can be reached again: a session of its own, over
/// one end of a socket pair, greeted with the same hello and fed the same replay as a new
/// daemon would be.
package protocol PrivateSession: Sendable {
    /// The forwarder's end of the connection, before the hello.
    var descriptor: Int32 { get }
    /// How stderr says where the session now runs, e.g. "serving in this process".
    var servingNote: String { get }
}

