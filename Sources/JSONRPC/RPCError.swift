import JanssonJSON

/// A JSON-RPC error object: what a handler throws to make the client see a protocol error.
///
/// Messages are meant for a person reading an editor's output pane, so the factory
/// functions put the detail into the message rather than only into `data`.
package struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    package var code: Int
    package var message: String
    package var data: JSON?

    package init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// The standard codes of JSON-RPC 2.0 plus LSP's request-cancelled and
    /// server-cancelled codes.
    package enum Code {
        package static let parseError = -32700
        package static let invalidRequest = -32600
        package static let methodNotFound = -32601
        package static let invalidParams = -32602
        package static let internalError = -32603
        package static let requestCancelled = -32800
        /// LSP's ServerCancelled; here it means "busy: retry later".
        package static let serverCancelled = -32802
    }

    /// The input was not valid JSON (or not a readable frame); answered with id null.
    package static func parseError(_ detail: String) -> RPCError {
        RPCError(code: Code.parseError, message: "Parse error: \(detail)")
    }

    /// The JSON was valid but is not a JSON-RPC request, or is not allowed right now.
    package static func invalidRequest(_ detail: String) -> RPCError {
        RPCError(code: Code.invalidRequest, message: "Invalid request: \(detail)")
    }

    package static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: Code.methodNotFound, message: "Method not found: '\(method)'")
    }

    /// A parameter is missing or has the wrong shape. `data` carries `{"field", "reason"}`
    /// so that a program can point at the offending field.
    package static func invalidParams(field: String, reason: String) -> RPCError {
        RPCError(
            code: Code.invalidParams,
            message: "Invalid params: '\(field)' \(reason)",
            data: ["field": .string(field), "reason": .string(reason)])
    }

    /// Something failed inside the server. Keep `detail` generic: it must never carry secrets.
    package static func internalError(_ detail: String) -> RPCError {
        RPCError(code: Code.internalError, message: "Internal error: \(detail)")
    }

    /// The only response a cancelled request ever gets.
    package static let requestCancelled = RPCError(code: Code.requestCancelled, message: "Request cancelled")

    /// The answer to a request that arrived while `limit` requests were already in
    /// flight: the server did not start it, and the same request may simply be sent again.
    package static func serverBusy(limit: Int) -> RPCError {
        RPCError(
            code: Code.serverCancelled,
            message: "Server busy: \(limit) requests are already in flight (the --max-in-flight limit), "
                + "so this one was not started; retry it later")
    }

    /// The error object as it appears in a response.
    package var json: JSON {
        var object: JSONObject = ["code": .int(Int64(code)), "message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }

    /// Reads an error object; `nil` unless it has an integer `code` and a string `message`.
    package init?(json: JSON) {
        guard let code = json["code"]?.intValue, let message = json["message"]?.stringValue,
            let exact = Int(exactly: code)
        else { return nil }
        self.init(code: exact, message: message, data: json["data"])
    }

    package var description: String { "\(message) (\(code))" }
}
