import JanssonJSON

/// One decoded message of the input, sorted by how the connection treats it.
enum InboundMessage {
    case invalid(MessageDecodingError)
    case request(RPCRequest)
    case notification(RPCNotification)
    /// A response, or something shaped like one: never answered, to avoid reply loops. It goes
    /// to the request of ours it answers (`OutgoingRequests`); a malformed one that names an id
    /// fails that request, and one with no usable id (`nil`) is dropped.
    case response(RPCResponse?)

    init(_ json: JSON) {
        do {
            switch try RPCMessage(decoding: json) {
            case .request(let request): self = .request(request)
            case .notification(let notification): self = .notification(notification)
            case .response(let response): self = .response(response)
            }
        } catch {
            if json["method"] == nil, json["result"] != nil || json["error"] != nil {
                self = .response(
                    error.id == .null
                        ? nil
                        : RPCResponse(
                            id: error.id,
                            outcome: .failure(.invalidRequest("the client's response is malformed: \(error.error.message)"))))
            } else {
                self = .invalid(error)
            }
        }
    }

    /// Whether the message gets an answer: requests and invalid messages do.
    var isAnswered: Bool {
        switch self {
        case .invalid, .request: return true
        case .notification, .response: return false
        }
    }
}

/// One thing the decoder found in the byte stream.
enum InboundEvent {
    /// A single message.
    case message(InboundMessage)
    /// A non-empty batch, its entries in order.
    case batch([InboundMessage])
    /// Something that is answered with an error and id null: a framing error, a body that
    /// is not JSON, an empty batch.
    case unreadable(RPCError)
}
