import JSONRPC

/// What `StdioServer` needs of a connection: bytes in, a drain at the end, and the detected
/// framing for the status line. Nothing about what the connection serves.
package protocol StdioConnection: Sendable {
    /// Called on the reader thread with each slice of input, in order.
    func receive(_ bytes: UnsafeRawBufferPointer)
    /// Ends input and waits, at most `timeout`, for the requests at work to be answered.
    func finishInput(timeout: Duration) async
    /// The framing, once the first byte has decided it; `nil` before.
    var framing: Framing? { get }
}

extension RPCConnection: StdioConnection {}
