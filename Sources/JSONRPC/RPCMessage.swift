import JanssonJSON

/// A call that expects exactly one response, echoing `id`.
package struct RPCRequest: Sendable, Equatable {
    package var id: RequestID
    package var method: String
    /// An object or an array when present.
    package var params: JSON?

    package init(id: RequestID, method: String, params: JSON? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// A call without an id: it is never answered, not even when it fails.
package struct RPCNotification: Sendable, Equatable {
    package var method: String
    package var params: JSON?

    package init(method: String, params: JSON? = nil) {
        self.method = method
        self.params = params
    }
}

/// The answer to a request: a result or an error, never both.
package struct RPCResponse: Sendable, Equatable {
    package var id: RequestID
    package var outcome: Result<JSON, RPCError>

    package init(id: RequestID, outcome: Result<JSON, RPCError>) {
        self.id = id
        self.outcome = outcome
    }
}

/// One JSON-RPC 2.0 message, as read from or written to the wire.
package enum RPCMessage: Sendable, Equatable {
    case request(RPCRequest)
    case notification(RPCNotification)
    case response(RPCResponse)

    /// The message as a JSON value, members in the conventional order.
    package var json: JSON {
        var object: JSONObject = ["jsonrpc": "2.0"]
        switch self {
        case .request(let request):
            object["id"] = request.id.json
            object["method"] = .string(request.method)
            if let params = request.params { object["params"] = params }
        case .notification(let notification):
            object["method"] = .string(notification.method)
            if let params = notification.params { object["params"] = params }
        case .response(let response):
            object["id"] = response.id.json
            switch response.outcome {
            case .success(let result): object["result"] = result
            case .failure(let error): object["error"] = error.json
            }
        }
        return .object(object)
    }
}
