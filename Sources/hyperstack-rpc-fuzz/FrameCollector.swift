import JSONRPC
import Locking
import Synchronization

/// The connection's real output, kept in order, as a transport would receive it.
final class FrameCollector: FrameSink {
    private let frames = Lock<[[UInt8]]>([])

    func write(_ frame: [UInt8]) {
        frames.withLock { $0.append(frame) }
    }

    var written: [[UInt8]] { frames.withLock { $0 } }
}
