import Synchronization

/// Gathers the answers of one batch and hands them over, in batch order, once the last
/// one is in: the spec wants a batch answered by a single array.
final class BatchCollector: Sendable {
    private struct Progress {
        var bodies: [[UInt8]?]
        var remaining: Int
    }

    private let progress: Mutex<Progress>
    private let complete: @Sendable ([[UInt8]]) -> Void

    /// `slots` is the batch size; `expected` how many entries will be answered.
    init(slots: Int, expected: Int, complete: @escaping @Sendable ([[UInt8]]) -> Void) {
        progress = Mutex(Progress(bodies: Array(repeating: nil, count: slots), remaining: expected))
        self.complete = complete
    }

    func fill(_ index: Int, with body: [UInt8]) {
        let finished: [[UInt8]]? = progress.withLock { progress in
            guard progress.bodies[index] == nil else { return nil }
            progress.bodies[index] = body
            progress.remaining -= 1
            return progress.remaining == 0 ? progress.bodies.compactMap { $0 } : nil
        }
        if let finished { complete(finished) }
    }
}
