import JSONRPC
import JanssonJSON

/// Receives the frames a one-shot call produces and hands back the response.
final class ResponseCollector: FrameSink {
    private let stream: AsyncStream<[UInt8]>
    private let continuation: AsyncStream<[UInt8]>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func write(_ frame: [UInt8]) {
        continuation.yield(frame)
    }

    /// The first frame that is a response to `id`; notifications are skipped.
    func response(id: Int64) async -> JSON {
        for await frame in stream {
            guard let message = try? JSON.parse(frame), message["id"]?.intValue == id else { continue }
            return message
        }
        return ["error": ["code": -32603, "message": "the server produced no response"]]
    }
}
