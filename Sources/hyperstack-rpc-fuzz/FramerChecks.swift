import JSONRPC

/// Properties of the three framers that must hold for any byte stream: the same
/// messages and errors however the stream is cut into reads, bodies within the limit,
/// never more body bytes than input, NDJSON lines trimmed and free of line ends, and
/// `auto` behaving exactly like the framing its first significant byte selects.
struct FramerChecks {
    let bytes: [UInt8]
    let seed: UInt64

    func run() {
        let limits = fuzzLimits(seed: seed)
        let plan = ChunkPlan(count: bytes.count, seed: seed).ranges
        for framing in [Framing.lsp, .ndjson, .auto] {
            let whole = events(framing, limits, chunks: [0..<bytes.count])
            let chunked = events(framing, limits, chunks: plan)
            require(whole == chunked, "\(framing) framing depends on how reads are cut (\(plan.count) reads)")
            if bytes.count <= 2048 {
                let single = events(framing, limits, chunks: ChunkPlan.bytewise(count: bytes.count))
                require(whole == single, "\(framing) framing differs when fed one byte at a time")
            }
            checkBodies(whole, framing: framing, limits: limits)
        }
        checkPlainFramersMatchAuto(limits)
        checkAutoFollowsFirstByte(limits)
    }

    private func events(_ framing: Framing, _ limits: FramingLimits, chunks: [Range<Int>]) -> [FramerEvent] {
        var framer = AutoFramer(framing: framing, limits: limits)
        return collect(chunks) { framer.feed($0, onMessage: $1, onError: $2) }
    }

    private func collect(
        _ chunks: [Range<Int>],
        _ feed: (UnsafeRawBufferPointer, (UnsafeRawBufferPointer) -> Void, (FramingError) -> Void) -> Void
    ) -> [FramerEvent] {
        var found: [FramerEvent] = []
        bytes.withUnsafeBytes { all in
            for range in chunks {
                feed(
                    UnsafeRawBufferPointer(rebasing: all[range]),
                    { found.append(.message(Array($0))) },
                    { found.append(.error($0)) })
            }
        }
        return found
    }

    private func checkBodies(_ found: [FramerEvent], framing: Framing, limits: FramingLimits) {
        var total = 0
        for case .message(let body) in found {
            total += body.count
            require(body.count <= limits.maxMessageBytes, "a \(body.count)-byte body passed a \(limits.maxMessageBytes)-byte limit")
            if framing == .ndjson {
                require(!body.isEmpty, "NDJSON produced an empty line as a message")
                require(!body.contains(UInt8(ascii: "\n")), "an NDJSON message holds a line feed: \(excerpt(body))")
                require(!isBlank(body.first!) && !isBlank(body.last!), "an NDJSON message is not trimmed: \(excerpt(body))")
            }
            checkJSONRoundTrip(body)
        }
        require(total <= bytes.count, "framers produced \(total) body bytes from \(bytes.count) input bytes")
    }

    private func checkPlainFramersMatchAuto(_ limits: FramingLimits) {
        let plan = ChunkPlan(count: bytes.count, seed: seed ^ 0x5555).ranges
        var lsp = ContentLengthFramer(limits: limits)
        let lspEvents = collect(plan) { lsp.feed($0, onMessage: $1, onError: $2) }
        require(lspEvents == events(.lsp, limits, chunks: [0..<bytes.count]), "ContentLengthFramer and AutoFramer(.lsp) differ")
        var ndjson = NDJSONFramer(limits: limits)
        let ndjsonEvents = collect(plan) { ndjson.feed($0, onMessage: $1, onError: $2) }
        require(ndjsonEvents == events(.ndjson, limits, chunks: [0..<bytes.count]), "NDJSONFramer and AutoFramer(.ndjson) differ")
    }

    private func checkAutoFollowsFirstByte(_ limits: FramingLimits) {
        guard let start = bytes.firstIndex(where: { Framing.detect(firstByte: $0) != nil }) else {
            require(events(.auto, limits, chunks: [0..<bytes.count]).isEmpty, "auto framing reported something in blank input")
            return
        }
        let detected = Framing.detect(firstByte: bytes[start])!
        var framer = AutoFramer(framing: detected, limits: limits)
        let expected = collect([start..<bytes.count]) { framer.feed($0, onMessage: $1, onError: $2) }
        require(events(.auto, limits, chunks: [0..<bytes.count]) == expected, "auto framing is not \(detected) after the first byte")
    }

    private func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}

/// Small limits half of the time, so short inputs reach the oversized and header-limit
/// paths; the defaults otherwise.
func fuzzLimits(seed: UInt64) -> FramingLimits {
    guard seed & 1 == 0 else { return .default }
    return FramingLimits(
        maxMessageBytes: 16 + Int((seed >> 8) % 240),
        maxHeaderLineBytes: 8 + Int((seed >> 16) % 56),
        maxHeaderBytes: 24 + Int((seed >> 24) % 200))
}
