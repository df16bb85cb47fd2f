import HTTPTypes
import InfrahubWire
import JanssonJSON
import Logging

/// A faithful stand-in for the four Infrahub api-key endpoints, at the HTTP level.
///
/// It answers `InfrahubRequest`s with the bodies, statuses and error shapes the
/// upstream documentation shows, so a client can be tested end to end without the real
/// service, in-process (`SandboxTransport`) or over HTTP (`SandboxHTTPServer`).
/// Assumptions where the docs are silent are marked "Assumption" below.
package actor Sandbox {
    private let configuration: SandboxConfiguration
    private let logger: Logger
    private let stateFile: SandboxStateFile?
    /// SHA-256 of the configured keys: compared like generated secrets, never kept raw.
    private let configuredKeyHashes: Set<String>
    /// SHA-256 of the configured access tokens, likewise.
    private let accessTokenHashes: Set<String>
    private var state: SandboxState
    /// SHA-256 of every stored key's secret, for a quick auth check.
    private var secretHashes: Set<String>
    private var faults: [SandboxFault] = []
    private var requestCounts: [SandboxRoute: Int] = [:]
    private var unrouted = 0

    /// Loads `configuration.statePath` if it exists; a file that cannot be read or
    /// parsed is an error rather than a silent fresh start, so no keys vanish unnoticed.
    package init(configuration: SandboxConfiguration, logger: Logger) throws(SandboxStateError) {
        self.configuration = configuration
        self.logger = logger
        self.configuredKeyHashes = Set(configuration.apiKeys.filter { !$0.isEmpty }.map(SandboxSecret.hash))
        self.accessTokenHashes = Set(configuration.accessTokens.filter { !$0.isEmpty }.map(SandboxSecret.hash))
        let stateFile = configuration.statePath.map { SandboxStateFile(path: $0) }
        self.stateFile = stateFile
        let loaded = try stateFile?.load() ?? SandboxState()
        self.state = loaded
        self.secretHashes = Set(loaded.keys.map(\.secretHash))
    }

    // MARK: Requests

    /// Answers one request; the head's `path` is relative to `/v1` and may carry a query.
    ///
    /// Never throws: every failure is an HTTP answer, as it would be upstream. The
    /// caller applies `latency` and carries out a drop.
    package func handle(_ request: InfrahubRequest) -> SandboxReply {
        let method = request.head.method.rawValue.uppercased()
        let requestPath = request.head.path ?? "/"
        let path = SandboxPath(requestPath)
        let route = path.route(for: method)
        switch route {
        case .success(let route): requestCounts[route, default: 0] += 1
        case .failure: unrouted += 1
        }

        guard let fault = takeFault(method: method, path: Self.pathWithoutQuery(requestPath)) else {
            let response = perform(request, path: path, matchedRoute: route)
            logger.debug(
                "Sandbox answered",
                metadata: ["method": "\(method)", "path": "\(requestPath)", "status": "\(response.head.status.code)"])
            return .response(response, latency: .zero)
        }

        switch fault.action {
        case .delayOnly:
            let response = perform(request, path: path, matchedRoute: route)
            logger.debug(
                "Sandbox answered after injected latency",
                metadata: [
                    "method": "\(method)", "path": "\(requestPath)", "status": "\(response.head.status.code)",
                    "latency": "\(fault.latency)",
                ])
            return .response(response, latency: fault.latency)
        case .respond(let status, let body, let contentType):
            if fault.apply { _ = perform(request, path: path, matchedRoute: route) }
            var headers: HTTPFields = [.contentType: contentType]
            if let retryAfter = fault.retryAfter { headers[.retryAfter] = retryAfter }
            logger.debug(
                "Sandbox answered with injected fault",
                metadata: ["method": "\(method)", "path": "\(requestPath)", "status": "\(status)", "applied": "\(fault.apply)"])
            let head = HTTPResponse(status: HTTPResponse.Status(code: status), headerFields: headers)
            return .response(InfrahubResponse(head: head, body: body), latency: fault.latency)
        case .dropConnection:
            if fault.apply { _ = perform(request, path: path, matchedRoute: route) }
            logger.debug(
                "Sandbox drops the connection (injected fault)",
                metadata: ["method": "\(method)", "path": "\(requestPath)", "applied": "\(fault.apply)"])
            return .dropConnection(latency: fault.latency)
        }
    }

    private func perform(
        _ request: InfrahubRequest, path: SandboxPath, matchedRoute: Result<SandboxRoute, SandboxPath.MethodNotAllowed>
    ) -> InfrahubResponse {
        let route: SandboxRoute
        switch matchedRoute {
        case .success(let matched):
            route = matched
        case .failure(let notAllowed) where notAllowed.allowed.isEmpty:
            return SandboxResponses.error(404, "The requested URL was not found on the server.", reason: "not_found")
        case .failure(let notAllowed):
            return SandboxResponses.error(
                405, "The method is not allowed for the requested URL.", reason: "method_not_allowed",
                extraHeaders: [.allow: notAllowed.allowed.joined(separator: ", ")])
        }

        if let unauthorized = authenticate(request.head.headerFields, route: route) { return unauthorized }

        switch (route, path) {
        case (.list, _):
            return listKeys()
        case (.generate, _):
            return generateKey(body: request.body)
        case (.update, .item(let segment)):
            return updateKey(idSegment: segment, body: request.body)
        case (.delete, .item(let segment)):
            return deleteKey(idSegment: segment)
        default:
            return SandboxResponses.error(404, "The requested URL was not found on the server.", reason: "not_found")
        }
    }

    /// `nil` when the request carries a credential `route` accepts: a configured access token
    /// as `Authorization: Bearer` on any route; on any route but a strict generate, a configured
    /// key or the secret of a key that still exists as `api_key`. Otherwise the 401 that says
    /// what was missing or wrong.
    private func authenticate(_ headers: HTTPFields, route: SandboxRoute) -> InfrahubResponse? {
        // The first field, as a server reading one header would; HTTPFields' subscript would join them.
        let authorization = headers[fields: .authorization].first?.value
        let apiKey = headers[fields: .apiKey].first?.value
        if let authorization, let token = Self.bearerToken(authorization),
            accessTokenHashes.contains(SandboxSecret.hash(token))
        {
            return nil
        }
        func unauthorized(_ message: String) -> InfrahubResponse {
            SandboxResponses.error(401, "Unauthorized: \(message)", reason: "unauthorized")
        }
        if route == .generate && configuration.generateRequiresAccessToken {
            if authorization != nil { return unauthorized("the access token is not valid.") }
            return unauthorized(
                "generating an API key needs an access token (Authorization: Bearer <token>); an api_key header is not accepted here.")
        }
        if let apiKey, !apiKey.isEmpty {
            let hash = SandboxSecret.hash(apiKey)
            if configuredKeyHashes.contains(hash) || secretHashes.contains(hash) { return nil }
            return unauthorized("the API key is not valid.")
        }
        if authorization != nil { return unauthorized("the access token is not valid.") }
        return unauthorized("the api_key header is missing.")
    }

    /// The token of `Bearer <token>` (the scheme in any case, as RFC 9110 has it), else nil.
    static func bearerToken(_ authorization: String) -> String? {
        let scheme = "bearer "
        guard authorization.utf8.count > scheme.utf8.count,
            authorization.prefix(scheme.count).lowercased() == scheme
        else { return nil }
        let token = authorization.dropFirst(scheme.count)
        return token.isEmpty ? nil : String(token)
    }

    private func listKeys() -> InfrahubResponse {
        SandboxResponses.json(
            200, ["status": true, "message": "Getting API Keys success", "api_keys": .array(state.keys.map(\.maskedFields))])
    }

    /// Assumption: upstream documents a 409 for generate without saying when; the
    /// sandbox answers 409 `already_exist` when a key with exactly the same name (case
    /// sensitive) exists. The limit is checked before the name, so a full account
    /// answers 403 whatever the name.
    private func generateKey(body: [UInt8]?) -> InfrahubResponse {
        let payload: KeyPayload
        switch KeyPayload.parse(body) {
        case .success(let parsed): payload = parsed
        case .failure(let failure): return SandboxResponses.error(400, failure.message, reason: "bad_request")
        }
        guard state.keys.count < configuration.maxKeys else {
            return SandboxResponses.error(403, "Maximum API key limit reached", reason: "forbidden")
        }
        if state.keys.contains(where: { $0.name == payload.name }) {
            return SandboxResponses.error(409, "An API key named \"\(payload.name)\" already exists.", reason: "already_exist")
        }
        let secret = SandboxSecret.generate()
        let key = StoredKey(
            id: state.nextID, name: payload.name, description: payload.description,
            createdAt: InfrahubTimestamp.now(), secretHash: SandboxSecret.hash(secret), lastFour: SandboxSecret.lastFour(of: secret))
        var next = state
        next.keys.append(key)
        next.nextID += 1
        if let failure = commit(next) { return failure }
        logger.info("Sandbox generated an API key", metadata: ["id": "\(key.id)"])
        return SandboxResponses.json(
            200, ["status": true, "message": "API Key generated successfully", "api_key": key.fields(key: secret)])
    }

    /// Assumption: a description left out keeps the old one, `null` clears it; renaming
    /// to a name another key has is allowed, since upstream documents no 409 for update.
    private func updateKey(idSegment: String, body: [UInt8]?) -> InfrahubResponse {
        guard let id = Self.parseID(idSegment) else { return invalidID(idSegment) }
        let payload: KeyPayload
        switch KeyPayload.parse(body) {
        case .success(let parsed): payload = parsed
        case .failure(let failure): return SandboxResponses.error(400, failure.message, reason: "bad_request")
        }
        guard let index = state.keys.firstIndex(where: { $0.id == id }) else { return notFound(id) }
        var next = state
        next.keys[index].name = payload.name
        if payload.descriptionGiven { next.keys[index].description = payload.description }
        if let failure = commit(next) { return failure }
        return SandboxResponses.json(
            200, ["status": true, "message": "API Key updated successfully", "api_key": next.keys[index].maskedFields])
    }

    private func deleteKey(idSegment: String) -> InfrahubResponse {
        guard let id = Self.parseID(idSegment) else { return invalidID(idSegment) }
        guard let index = state.keys.firstIndex(where: { $0.id == id }) else { return notFound(id) }
        var next = state
        next.keys.remove(at: index)
        if let failure = commit(next) { return failure }
        logger.info("Sandbox deleted an API key", metadata: ["id": "\(id)"])
        return SandboxResponses.json(200, ["status": true, "message": "API Key deleted successfully"])
    }

    /// Saves first and only then adopts the new state, so memory and file never disagree.
    private func commit(_ next: SandboxState) -> InfrahubResponse? {
        if let stateFile {
            do {
                try stateFile.save(next)
            } catch {
                logger.error("Sandbox could not save its state", metadata: ["error": "\(error)"])
                // The real cause ("cannot save sandbox state to …: permission denied"), for whoever reads the 500.
                return SandboxResponses.error(500, error.description, reason: "server_error")
            }
        }
        state = next
        secretHashes = Set(next.keys.map(\.secretHash))
        return nil
    }

    private func invalidID(_ segment: String) -> InfrahubResponse {
        SandboxResponses.error(400, "api_key_id must be an integer, got \"\(segment)\".", reason: "bad_request")
    }

    private func notFound(_ id: Int64) -> InfrahubResponse {
        SandboxResponses.error(404, "API key \(id) was not found.", reason: "not_found")
    }

    /// Digits only, like the `int` path converter upstream uses.
    private static func parseID(_ segment: String) -> Int64? {
        guard !segment.isEmpty, segment.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int64(segment)
    }

    private static func pathWithoutQuery(_ path: String) -> String {
        guard let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return path }
        return String(path[..<end])
    }

    // MARK: Faults

    /// The first pending fault that matches, with one use taken off it.
    private func takeFault(method: String, path: String) -> SandboxFault? {
        guard !faults.isEmpty, let index = faults.firstIndex(where: { $0.matches(method: method, path: path) }) else {
            return nil
        }
        let fault = faults[index]
        if fault.count <= 1 {
            faults.remove(at: index)
        } else {
            faults[index].count -= 1
        }
        return fault
    }

    /// Queues faults behind those already pending; each affects its next `count` matches.
    package func injectFaults(_ newFaults: [SandboxFault]) {
        faults.append(contentsOf: newFaults)
        logger.debug("Sandbox faults injected", metadata: ["count": "\(newFaults.count)", "pending": "\(faults.count)"])
    }

    /// Parses one fault spec or `{"faults": [...]}` (see `SandboxFault`) and queues it.
    /// Returns how many faults were added; a bad spec adds none.
    @discardableResult
    package func injectFaults(json: JSON) throws(SandboxFaultSpecError) -> Int {
        let parsed = try SandboxFault.list(from: json)
        injectFaults(parsed)
        return parsed.count
    }

    /// Faults injected but not yet used up.
    var pendingFaults: [SandboxFault] { faults }

    // MARK: Control

    package func stats() -> SandboxStats {
        SandboxStats(requests: requestCounts, unrouted: unrouted, keyCount: state.keys.count, pendingFaults: faults.count)
    }

    /// Deletes every stored key and forgets statistics and pending faults. Configured
    /// keys keep working, and ids keep counting up so none is ever reused.
    package func reset() throws(SandboxStateError) {
        var next = SandboxState()
        next.nextID = state.nextID
        try stateFile?.save(next)
        state = next
        secretHashes = []
        faults = []
        requestCounts = [:]
        unrouted = 0
        logger.info("Sandbox reset")
    }
}
