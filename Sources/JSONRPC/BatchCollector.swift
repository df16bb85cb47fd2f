import Locking
import Synchronization

/// Gathers the answers of one batch and hands them over, in batch order, once the last
/// one is in: the spec wants a batch answered by a single array.
final class BatchCollector: Sendable {
    private struct Progress {
        var bodies: [[UInt8]?]
        var remaining: Int
        /// Ready answers counted in `backlog` while the batch waits for its slower entries.
        var held = 0
    }

    private let progress: Lock<Progress>
    private let expected: Int
    private let backlog: HeldAnswers
    private let complete: @Sendable ([[UInt8]]) -> Void

    /// `slots` is the batch size; `expected` how many entries will be answered.
    init(slots: Int, expected: Int, backlog: HeldAnswers, complete: @escaping @Sendable ([[UInt8]]) -> Void) {
        progress = Lock(Progress(bodies: Array(repeating: nil, count: slots), remaining: expected))
        self.expected = expected
        self.backlog = backlog
        self.complete = complete
    }

    /// Fills one entry; `nil` withdraws it (the entry gets no answer after all).
    func fill(_ index: Int, with body: [UInt8]?) {
        let finished: [[UInt8]]? = progress.withLock { progress in
            guard progress.bodies[index] == nil else { return nil }
            progress.bodies[index] = body ?? withdrawn
            progress.remaining -= 1
            guard progress.remaining == 0 else { return nil }
            if progress.held > 0 { backlog.release(progress.held) }
            progress.held = 0
            return progress.bodies.compactMap { $0?.isEmpty == false ? $0 : nil }
        }
        if let finished { complete(finished) }
    }

    /// Called once every entry has been dispatched: if the batch is still waiting for
    /// some of them, the answers it already holds count as work in flight until it is
    /// complete, so batches that wait on slow entries cannot pile up answers unbounded.
    func holdReadyAnswers() {
        progress.withLock { progress in
            guard progress.remaining > 0 else { return }
            progress.held = expected - progress.remaining
            if progress.held > 0 { backlog.hold(progress.held) }
        }
    }
}

/// Marks a withdrawn entry: no real body is empty.
private let withdrawn: [UInt8] = []

/// How many ready answers sit in unfinished batches, for the connection's in-flight limit.
/// A class of its own so that batch collectors can update it without holding the connection.
final class HeldAnswers: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func hold(_ answers: Int) {
        count.add(answers, ordering: .relaxed)
    }

    func release(_ answers: Int) {
        count.subtract(answers, ordering: .relaxed)
    }
}
