/// Names this exact build and the daemon protocol it speaks, so a forwarder only ever
/// talks to a daemon from the same binary: after an upgrade the new binary's socket has a
/// new name, a fresh daemon starts there, and the old one idles out (the stale-daemon
/// failure gopls users reported).
///
/// The fingerprint itself is computed by the full server (`BuildFingerprint.ofThisBuild`, in
/// HyperstackDaemon), which hands it to the thin forwarder it execs.
package enum BuildFingerprint {
    /// Bumped whenever the hello, the welcome or the session stream change meaning.
    package static let daemonProtocolVersion = 1
}

extension Sequence<UInt8> {
    /// Lower-case hex, two digits a byte.
    package var hexDigits: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
