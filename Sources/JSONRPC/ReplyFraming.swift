import Synchronization

/// The framing replies use, decided once: fixed by the configuration, or published by the
/// inbound decoder when `auto` sees the first significant byte. The decoder writes it on the
/// reader thread; the outbox reads it on any thread, so it is an atomic.
final class ReplyFraming: Sendable {
    private let code: Atomic<UInt8>

    init(_ configured: Framing) {
        code = Atomic(Self.code(configured))
    }

    /// The decided framing; `nil` while `auto` has seen no input yet.
    var decided: Framing? { Self.framing(code.load(ordering: .acquiring)) }

    /// What a frame written now uses: LSP headers until something was decided.
    var current: Framing { decided ?? .lsp }

    var isUndecided: Bool { code.load(ordering: .relaxed) == 0 }

    func publish(_ framing: Framing) {
        code.store(Self.code(framing), ordering: .releasing)
    }

    private static func code(_ framing: Framing) -> UInt8 {
        switch framing {
        case .auto: return 0
        case .lsp: return 1
        case .ndjson: return 2
        }
    }

    private static func framing(_ code: UInt8) -> Framing? {
        switch code {
        case 1: return .lsp
        case 2: return .ndjson
        default: return nil
        }
    }
}
