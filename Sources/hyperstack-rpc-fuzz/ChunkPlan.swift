/// How an input is cut into reads, the way a pipe might deliver it: a deterministic mix
/// of single bytes, small and large pieces, drawn from a SplitMix64 stream.
struct ChunkPlan {
    private(set) var ranges: [Range<Int>] = []

    init(count: Int, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let sizes = [1, 1, 2, 3, 5, 8, 13, 16, 64, 200, 1000, 4096]
        var start = 0
        while start < count {
            let size = sizes[Int(random.next() % UInt64(sizes.count))]
            let end = min(count, start + size)
            ranges.append(start..<end)
            start = end
        }
    }

    /// One read per byte: the hardest case for a state machine.
    static func bytewise(count: Int) -> [Range<Int>] {
        (0..<count).map { $0..<($0 + 1) }
    }
}

/// A tiny, fast pseudo-random generator; good enough to pick chunk sizes.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
