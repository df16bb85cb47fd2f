import JSONRPC
import JanssonJSON

/// `delete_api_key`'s confirmation. In the handshake era, when the client declared that it can
/// show forms (`capabilities.elicitation`), the deletion waits for a person to tick one boolean
/// in an `elicitation/create` form; only "accept" with `confirm: true` deletes. Revisions before
/// 2025-06-18 have no elicitation, and a client that did not declare it is not asked.
enum MCPDeleteConfirmation {
    /// What the person (or the client) decided.
    enum Decision: Equatable {
        /// Nobody is asked: the client cannot show a form.
        case notAsked
        case confirmed
        /// Not deleted, by a person's choice: `reason` is "declined", "cancelled" or "unconfirmed".
        case refused(reason: String)
        /// Not deleted, because no answer could be had (an error response, a closed connection).
        case unavailable(String)
    }

    static let method = "elicitation/create"

    /// How long a person has to answer; then nothing is deleted and the client is told the
    /// form is moot. Generous: the spec wants a timeout, not a hurry.
    static let answerTimeout = Duration.seconds(600)

    /// The `elicitation/create` params for this client, or `nil` when it is not to be asked:
    /// 2025-06-18 wants no `mode`; 2025-11-25 wants `mode: "form"`, and a client that declared
    /// only `url` elicitation cannot show a form.
    static func request(version: String?, clientCapabilities: JSON, id: Int64, name: String?) -> JSON? {
        guard let version, let elicitation = clientCapabilities["elicitation"]?.objectValue else { return nil }
        let withMode: Bool
        switch version {
        case "2025-06-18":
            withMode = false
        case "2025-11-25":
            // `{}` means form, for clients written against 2025-06-18.
            guard elicitation.isEmpty || elicitation["form"] != nil else { return nil }
            withMode = true
        default:
            return nil
        }
        let subject = name.map { "the Hyperstack API key '\($0)' (id \(id))" } ?? "the Hyperstack API key with id \(id)"
        var params: JSONObject = [
            "message": .string(
                "Delete \(subject)? Anything still using it stops working at once, and this cannot be undone."),
            "requestedSchema": [
                "type": "object",
                "properties": [
                    "confirm": [
                        "type": "boolean",
                        "title": "Delete this API key",
                        "description": "Tick to delete the key for good; leave unticked to keep it.",
                        "default": false,
                    ]
                ],
                "required": ["confirm"],
            ],
        ]
        if withMode { params["mode"] = "form" }
        return .object(params)
    }

    /// Asks when the client can be asked. Throws only `CancellationError` (the call was
    /// cancelled while the form was open), after which nothing may be deleted.
    static func ask(
        context: RequestContext, version: String?, clientCapabilities: JSON, id: Int64, name: String?
    ) async throws(CancellationError) -> Decision {
        guard let params = request(version: version, clientCapabilities: clientCapabilities, id: id, name: name) else {
            return .notAsked
        }
        let answer: JSON
        do {
            answer = try await context.request(method, params: params, timeout: answerTimeout)
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as OutgoingRequestError {
            switch error {
            case .rejected(let rpcError):
                return .unavailable("the client answered the confirmation request with the error \(rpcError.code) (\(rpcError.message))")
            default:
                return .unavailable(String(describing: error))
            }
        } catch {
            return .unavailable("the confirmation request failed")
        }
        if context.isCancelled { throw CancellationError() }
        return decision(answer)
    }

    /// Reads an `ElicitResult`.
    static func decision(_ answer: JSON) -> Decision {
        switch answer["action"]?.stringValue {
        case "accept": answer["content"]?["confirm"]?.boolValue == true ? .confirmed : .refused(reason: "unconfirmed")
        case "decline": .refused(reason: "declined")
        case "cancel": .refused(reason: "cancelled")
        default: .unavailable("the client's answer to the confirmation request has no valid action")
        }
    }

    /// What the tool result says when a person chose not to delete.
    static func refusalMessage(reason: String, id: Int64, name: String?) -> String {
        let subject = name.map { "The API key '\($0)' (id \(id))" } ?? "The API key with id \(id)"
        let why =
            switch reason {
            case "declined": "the user declined the deletion"
            case "cancelled": "the user dismissed the confirmation without choosing"
            default: "the user did not tick the confirmation"
            }
        return "Nothing was deleted: \(why). \(subject) still exists and keeps working. "
            + "Do not delete it unless the user asks again."
    }

    static func unavailableMessage(_ detail: String, id: Int64) -> String {
        "Nothing was deleted: this server asks the user to confirm every deletion, and \(detail). "
            + "The API key with id \(id) still exists. Try again once the client can show the confirmation."
    }
}
