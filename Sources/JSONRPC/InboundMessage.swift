import JanssonJSON

/// One decoded message of the input, sorted by how the connection treats it.
enum InboundMessage {
    case invalid(MessageDecodingError)
    case request(RPCRequest)
    case notification(RPCNotification)
    /// A response, or something shaped like one: never answered, to avoid reply loops.
    case response

    init(_ json: JSON) {
        do {
            switch try RPCMessage(decoding: json) {
            case .request(let request): self = .request(request)
            case .notification(let notification): self = .notification(notification)
            case .response: self = .response
            }
        } catch {
            if json["method"] == nil, json["result"] != nil || json["error"] != nil {
                self = .response
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
