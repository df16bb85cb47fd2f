import Credentials
import InfrahubWire

/// The errors the client raises, worded for a person reading an editor's output pane.
///
/// Messages name the call, say what happened and what to do; upstream's own words are
/// quoted when it sent any, except for a 401. None of them may contain a secret: upstream's
/// text is redacted as it is read, and callers pass the configured credentials through
/// `redacting(_:)` as a last line of defence.
extension InfrahubError {
    static let credentialHelp = CredentialKind.apiKey.configurationHelp + "; or run with --sandbox."
    /// How to configure an access token, for a generate refused with only a key.
    static let accessTokenHelp = CredentialKind.accessToken.configurationHelp + "."

    static func missingCredential(for call: InfrahubCall) -> InfrahubError {
        InfrahubError(
            kind: .unauthorized,
            message: "\(call.failurePrefix): no Hyperstack API key (or access token) is configured. \(credentialHelp)",
            retryable: false)
    }

    /// Added to a generate refused with 401 or 403 when it went with the API key because no
    /// token is configured: Infrahub's OpenAPI document gives generate the access-token scheme
    /// alone, while every SDK sends the key, so the refusal may be that reading of the spec.
    static let generateNeedsAccessToken =
        "Only an API key is configured, and Infrahub's API documents generate as taking an access token "
        + "(Authorization: Bearer) instead. \(accessTokenHelp)"

    static func cancelled(_ call: InfrahubCall) -> InfrahubError {
        let hint = call == .generate ? " The key may or may not have been created; list keys to check." : ""
        return InfrahubError(
            kind: .unreachable, message: "\(call.failurePrefix): the request was cancelled.\(hint)", retryable: true)
    }

    /// An HTTP error status after the client gave up retrying.
    /// - Parameters:
    ///   - credential: the one the request carried.
    ///   - configured: every credential held, to tell a generate sent with the key because no
    ///     token is configured.
    static func http(
        status: Int, body: UpstreamErrorBody, call: InfrahubCall, attempts: Int, retryAfter: Duration?,
        sentWith credential: CredentialKind = .apiKey, configured: UpstreamCredentials = .none
    ) -> InfrahubError {
        let kind: Kind
        var explanation: String
        var retryable = false
        switch status {
        case 401:
            kind = .unauthorized
            let help = credential == .apiKey ? credentialHelp : accessTokenHelp
            explanation = "Infrahub rejected the \(credential.name) (HTTP 401). Check the configured \(credential.name): \(help)"
        case 403:
            kind = .forbidden
            explanation = "Infrahub refused to allow this (HTTP 403)."
        case 404:
            kind = .notFound
            explanation = call.notFoundExplanation
        case 409:
            kind = .conflict
            explanation = "Infrahub reports a conflict with an existing key (HTTP 409)."
        case 429:
            kind = .rateLimited
            retryable = true
            let wait = retryAfter.map { " Infrahub asked to wait \(wholeSeconds($0)) s." } ?? ""
            explanation = "Infrahub's rate limit (500 requests a minute) is exhausted (HTTP 429)\(tries(attempts)).\(wait) Wait a minute and try again."
        case 400...499:
            kind = .rejected
            explanation = "Infrahub rejected the request (HTTP \(status))."
        case 500...599:
            kind = .serverError
            retryable = true
            explanation = "Infrahub had a server error (HTTP \(status))\(tries(attempts)). Try again later."
            if call == .generate {
                explanation += " The key may or may not have been created; list keys before generating again."
            }
        default:
            kind = .malformedResponse
            explanation = "Infrahub answered with unexpected HTTP status \(status)."
        }
        let keyOnlyGenerate = call == .generate && credential == .apiKey && configured.accessToken == nil
        if status == 401 {
            // The key may be wrong, or generate may want a token: the message says both.
            if keyOnlyGenerate { explanation += " \(generateNeedsAccessToken)" }
            // A gateway that rejects a key often echoes the key it rejected: a 401's words are
            // never quoted. `upstreamMessage` only records that upstream said something.
            let said = body.combinedMessage != nil || body.reason != nil
            return InfrahubError(
                kind: kind, message: "\(call.failurePrefix): \(explanation)", httpStatus: status,
                upstreamMessage: said ? withheldUpstreamText : nil, retryable: retryable)
        }
        let upstream = body.combinedMessage
        if let upstream { explanation += " Infrahub said: \"\(upstream)\"." }
        if status == 403 && keyOnlyGenerate { explanation += " \(generateNeedsAccessToken)" }
        return InfrahubError(
            kind: kind, message: "\(call.failurePrefix): \(explanation)", httpStatus: status, reason: body.reason,
            upstreamMessage: upstream, retryable: retryable)
    }

    /// What stands for upstream's text where it is withheld (the answers to a rejected key).
    static let withheldUpstreamText = SecretRedactor.marker

    /// The request never got an answer.
    static func transport(_ failure: TransportFailure, call: InfrahubCall, attempts: Int, timeout: Duration) -> InfrahubError {
        var explanation: String
        var retryable = true
        var kind = Kind.unreachable
        switch failure {
        case .connectionRefused(let detail):
            explanation = "could not connect to Infrahub (\(detail))\(tries(attempts)). Check the network, or run with --sandbox."
        case .timedOut(let detail):
            explanation = "Infrahub did not answer within \(wholeSeconds(timeout)) s (\(detail))\(tries(attempts))."
        case .responseTimedOut(let detail):
            explanation = "Infrahub's answer did not arrive in full within \(wholeSeconds(timeout)) s (\(detail))."
        case .connectionLost(let detail):
            explanation = "the connection to Infrahub broke before it answered (\(detail))\(tries(attempts))."
        case .unusableResponse(let detail):
            // Asking again would fetch the same unusable answer.
            kind = .malformedResponse
            retryable = false
            explanation = "Infrahub's answer could not be used: \(detail)."
        case .invalidRequest(let detail):
            retryable = false
            explanation = "the request could not be sent: \(detail). Nothing reached Infrahub."
        case .other(let detail):
            explanation = "the request to Infrahub failed (\(detail))\(tries(attempts))."
        }
        if call == .generate, !failure.neverSent {
            explanation += " The key may or may not have been created; list keys before generating again."
            retryable = false
        }
        return InfrahubError(kind: kind, message: "\(call.failurePrefix): \(explanation)", retryable: retryable)
    }

    /// A 2xx whose body the client cannot use.
    static func malformed(_ what: String, call: InfrahubCall, status: Int) -> InfrahubError {
        var message = "\(call.failurePrefix): Infrahub's answer (HTTP \(status)) could not be read: \(what)."
        if call == .generate {
            message += " The key may have been created; list keys to check."
        }
        return InfrahubError(kind: .malformedResponse, message: message, httpStatus: status, retryable: false)
    }

    /// A 2xx whose body nevertheless says `"status": false`.
    static func refused(_ body: UpstreamErrorBody, call: InfrahubCall, status: Int) -> InfrahubError {
        var message = "\(call.failurePrefix): Infrahub answered HTTP \(status) but reported failure."
        let upstream = body.combinedMessage
        if let upstream { message += " Infrahub said: \"\(upstream)\"." }
        return InfrahubError(
            kind: .rejected, message: message, httpStatus: status, reason: body.reason, upstreamMessage: upstream,
            retryable: false)
    }

    /// A copy with every trace of each credential taken out (see `SecretRedactor`: any
    /// 8-character run of it, in any case, and its percent- and base64-encoded forms), should
    /// upstream or a library have echoed it. The last line of defence: upstream's text was
    /// already redacted as it was read, before any excerpt was cut.
    func redacting(_ credentials: UpstreamCredentials) -> InfrahubError {
        let secrets = credentials.secrets.filter { !$0.revealed.isEmpty }
        guard !secrets.isEmpty else { return self }
        let redactor = SecretRedactor(
            secrets: secrets, sparing: [Self.credentialHelp, Self.accessTokenHelp, Self.generateNeedsAccessToken])
        var copy = self
        copy.message = redactor.redact(message)
        copy.upstreamMessage = redactor.redact(upstreamMessage)
        copy.reason = redactor.redact(reason)
        return copy
    }

    private static func tries(_ attempts: Int) -> String {
        attempts > 1 ? " after \(attempts) tries" : ""
    }

    private static func wholeSeconds(_ duration: Duration) -> String {
        let parts = duration.components
        if parts.attoseconds == 0 { return "\(parts.seconds)" }
        let tenths = Double(parts.seconds) + Double(parts.attoseconds) / 1e18
        return String((tenths * 10).rounded() / 10)
    }
}
