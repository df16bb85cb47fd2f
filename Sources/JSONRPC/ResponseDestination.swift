/// Where a request's one answer goes.
enum ResponseDestination: Sendable {
    /// Its own frame.
    case direct
    /// An entry of a batch response.
    case batch(BatchCollector, index: Int)
}
