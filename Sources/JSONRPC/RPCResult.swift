import JanssonJSON

/// What a method handler returns.
package enum RPCResult: Sendable {
    /// A value to serialise as the response's `result`.
    case json(JSON)
    /// A result already produced by `JSON.serialized()`, spliced into the response
    /// as-is. The fast path for results that are cached in serialised form.
    case serialized([UInt8])
}
