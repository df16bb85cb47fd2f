/// An incremental splitter of a byte stream into message bodies.
///
/// Framers are plain state machines: they see only the bytes they are fed, in whatever
/// chunks the transport happened to read, and never block or own a file descriptor.
package protocol MessageFramer {
    /// Consumes `chunk`, calling `onMessage` for each complete body and `onError` for
    /// each framing problem, in stream order. A body pointer is valid only during the
    /// call (it may point straight into `chunk`, avoiding a copy).
    mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        onMessage: (UnsafeRawBufferPointer) -> Void,
        onError: (FramingError) -> Void)
}

/// A framer's finding, with the body copied out; handy for tests and tools.
package enum FramerEvent: Sendable, Equatable {
    case message([UInt8])
    case error(FramingError)
}

extension MessageFramer {
    /// Feeds `bytes` and returns what was found, in order.
    package mutating func feed(_ bytes: some Collection<UInt8>) -> [FramerEvent] {
        var events: [FramerEvent] = []
        let array = Array(bytes)
        array.withUnsafeBytes { chunk in
            feed(
                chunk,
                onMessage: { events.append(.message(Array($0))) },
                onError: { events.append(.error($0)) })
        }
        return events
    }
}
