/// One fuzz input pushed through every check: the framers, the JSON round trip and a
/// whole connection. The input is a plain byte stream, so corpus files are readable
/// frames; the variations (chunking, limits, framing) are derived from its hash, so the
/// same input always runs the same way and a crash reproduces.
struct FuzzCase {
    let bytes: [UInt8]
    let seed: UInt64

    init(_ input: UnsafeRawBufferPointer) {
        bytes = Array(input)
        seed = fnv1a(bytes)
    }

    func run() {
        checkJSONRoundTrip(bytes)
        FramerChecks(bytes: bytes, seed: seed).run()
        ConnectionCheck(bytes: bytes, seed: seed).run()
    }
}

/// FNV-1a: a cheap, stable hash, so variations depend on the input alone.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
