import JanssonJSON

/// Why a JSON value is not a valid JSON-RPC 2.0 message, with the id to answer with:
/// the message's own id when it could be read as a valid id, else null.
package struct MessageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    package var id: RequestID
    package var error: RPCError

    package init(id: RequestID, error: RPCError) {
        self.id = id
        self.error = error
    }

    package var description: String { error.description }
}

extension RPCMessage {
    /// Decodes one message strictly: `"jsonrpc"` must be exactly `"2.0"`, `"method"` a
    /// string, `"params"` an object or array when present, and `"id"` a string, an
    /// integer or null. A message with an `"id"` member (even null) is a request; one
    /// without is a notification. Unknown extra members are ignored.
    package init(decoding json: JSON) throws(MessageDecodingError) {
        guard case .object(let object) = json else {
            throw MessageDecodingError(
                id: .null,
                error: .invalidRequest("a message must be a JSON object, not \(article(json.typeName))"))
        }

        var id: RequestID?
        if let idValue = object["id"] {
            guard let valid = RequestID(json: idValue) else {
                throw MessageDecodingError(
                    id: .null,
                    error: .invalidRequest(
                        "\"id\" must be a string, an integer or null, not \(article(idValue.typeName))"))
            }
            id = valid
        }
        let echo = id ?? .null

        guard case .string("2.0")? = object["jsonrpc"] else {
            let detail = object["jsonrpc"] == nil
                ? "the \"jsonrpc\" member is missing; it must be \"2.0\""
                : "\"jsonrpc\" must be exactly the string \"2.0\""
            throw MessageDecodingError(id: echo, error: .invalidRequest(detail))
        }

        if let methodValue = object["method"] {
            guard case .string(let method) = methodValue else {
                throw MessageDecodingError(
                    id: echo,
                    error: .invalidRequest("\"method\" must be a string, not \(article(methodValue.typeName))"))
            }
            let params = object["params"]
            if let params {
                switch params {
                case .object, .array: break
                default:
                    throw MessageDecodingError(
                        id: echo,
                        error: .invalidRequest(
                            "\"params\" must be an object or an array, not \(article(params.typeName))"))
                }
            }
            if let id {
                self = .request(RPCRequest(id: id, method: method, params: params))
            } else {
                self = .notification(RPCNotification(method: method, params: params))
            }
            return
        }

        let result = object["result"]
        let errorValue = object["error"]
        guard result != nil || errorValue != nil else {
            throw MessageDecodingError(id: echo, error: .invalidRequest("the \"method\" member is missing"))
        }
        guard let id else {
            throw MessageDecodingError(id: .null, error: .invalidRequest("a response must have an \"id\""))
        }
        switch (result, errorValue) {
        case (let result?, nil):
            self = .response(RPCResponse(id: id, outcome: .success(result)))
        case (nil, let errorValue?):
            guard let error = RPCError(json: errorValue) else {
                throw MessageDecodingError(
                    id: id,
                    error: .invalidRequest("\"error\" must be an object with an integer \"code\" and a string \"message\""))
            }
            self = .response(RPCResponse(id: id, outcome: .failure(error)))
        default:
            throw MessageDecodingError(
                id: id, error: .invalidRequest("a response must have either \"result\" or \"error\", not both"))
        }
    }
}

/// "an object", "a string": reads better in a message than the bare type name.
func article(_ typeName: String) -> String {
    switch typeName.first {
    case "a", "e", "i", "o", "u": return "an \(typeName)"
    default: return "a \(typeName)"
    }
}
