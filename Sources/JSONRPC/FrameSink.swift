/// Where a connection puts outgoing frames. `write` is a synchronous, FIFO enqueue of
/// one whole frame; the transport (e.g. the stdio layer) writes the bytes out later.
/// Keeping it synchronous is what lets a handler's notifications precede its response.
package protocol FrameSink: Sendable {
    func write(_ frame: [UInt8])
}
