import JanssonJSON

/// A misbehaviour injected into the next matching responses, so clients can be tested
/// against the failures the real API is known for (5xx, 429 with `Retry-After`,
/// non-JSON bodies, slow answers, connections that break, "timed out but created").
///
/// JSON shape (`POST /_sandbox/faults` takes one of these or `{"faults": [...]}`):
///
/// ```json
/// {
///   "method": "POST",              // optional, case-insensitive; absent matches every method
///   "path": "/api-key/generate",   // optional path prefix, relative to /v1 ("/v1/..." also accepted);
///                                  //   absent matches every path
///   "count": 1,                    // optional, how many matching requests it affects (>= 1, default 1)
///   "latency_ms": 1500,            // optional delay before answering or dropping (default 0)
///   "status": 503,                 // optional: answer with this status (100...599) instead of the real result
///   "body": {"message": "..."},    // optional JSON body sent with "status" (default: the documented
///                                  //   error body {status:false, message, error_reason})
///   "raw_body": "<html>..</html>", // optional body sent verbatim as text/plain; excludes "body"
///   "retry_after": 2,              // optional Retry-After header (seconds or an HTTP date, as a string);
///                                  //   without "status" it implies status 429
///   "malformed": true,             // optional: answer ("status", default 200) with a body that is not JSON
///   "drop": true,                  // optional: close the connection without any response
///   "apply": true                  // optional: perform the real operation first, then answer with the fault
/// }
/// ```
///
/// A fault with only `latency_ms` delays the real answer: the operation happens. A fault that changes the answer
/// (`status`, `malformed`, `drop`) replaces the operation, which therefore does not
/// happen, unless `"apply": true` asks for it to happen first, e.g. `{"path":
/// "/api-key/generate", "drop": true, "apply": true}` emulates a generate that timed out
/// on the client but created the key. Faults are consulted in the order injected, before
/// authentication (they stand for the load balancer and rate limiter in front of the API).
package struct SandboxFault: Sendable, Equatable {
    /// What the fault does to the answer.
    package enum Action: Sendable, Equatable {
        /// Only delay: the real answer follows the latency.
        case delayOnly
        /// Answer with this status and body instead of the real result.
        case respond(status: Int, body: [UInt8], contentType: String)
        /// Close the connection without answering.
        case dropConnection
    }

    /// Upper-case method to match, or `nil` for any.
    package var method: String?
    /// Path prefix (relative to `/v1`) to match, or `nil` for any.
    package var pathPrefix: String?
    /// Matching requests still to affect.
    package var count: Int
    package var latency: Duration
    /// `Retry-After` value added to the answer.
    package var retryAfter: String?
    package var action: Action
    /// Perform the real operation before answering with the fault.
    package var apply: Bool

    package init(
        method: String? = nil,
        pathPrefix: String? = nil,
        count: Int = 1,
        latency: Duration = .zero,
        retryAfter: String? = nil,
        action: Action = .delayOnly,
        apply: Bool = false
    ) {
        self.method = method?.uppercased()
        self.pathPrefix = pathPrefix.map(Self.normalisedPath)
        self.count = max(1, count)
        self.latency = latency
        self.retryAfter = retryAfter
        self.action = action
        self.apply = apply
    }

    /// Whether this fault applies to a request.
    func matches(method: String, path: String) -> Bool {
        if let wanted = self.method, wanted != method.uppercased() { return false }
        if let prefix = pathPrefix, !path.hasPrefix(prefix) { return false }
        return true
    }

    /// Lets a fault written against the full URL path (`/v1/api-key`) match too.
    static func normalisedPath(_ path: String) -> String {
        if path == "/v1" { return "/" }
        if path.hasPrefix("/v1/") { return String(path.dropFirst(3)) }
        return path
    }
}

extension SandboxFault {
    /// Answer with `status` and, unless given, the documented error body for it.
    package static func status(
        _ status: Int, body: JSON? = nil, retryAfter: String? = nil,
        method: String? = nil, path: String? = nil, count: Int = 1, apply: Bool = false
    ) -> SandboxFault {
        let json = body ?? SandboxResponses.faultBody(status: status)
        return SandboxFault(
            method: method, pathPrefix: path, count: count, retryAfter: retryAfter,
            action: .respond(status: status, body: SandboxResponses.bytes(json), contentType: "application/json"),
            apply: apply)
    }

    /// Delay the real answer.
    package static func latency(_ latency: Duration, method: String? = nil, path: String? = nil, count: Int = 1) -> SandboxFault {
        SandboxFault(method: method, pathPrefix: path, count: count, latency: latency)
    }

    /// Close the connection without answering (after performing the operation if `apply`).
    package static func drop(method: String? = nil, path: String? = nil, count: Int = 1, apply: Bool = false) -> SandboxFault {
        SandboxFault(method: method, pathPrefix: path, count: count, action: .dropConnection, apply: apply)
    }

    /// Answer `status` (200 by default) with a body that is not JSON.
    package static func malformed(status: Int = 200, method: String? = nil, path: String? = nil, count: Int = 1) -> SandboxFault {
        SandboxFault(
            method: method, pathPrefix: path, count: count,
            action: .respond(status: status, body: Array(SandboxResponses.malformedBody.utf8), contentType: "text/html"))
    }
}

/// Why a fault spec was refused; the message names the offending member.
package struct SandboxFaultSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

extension SandboxFault {
    private static let knownMembers: Set<String> = [
        "method", "path", "count", "latency_ms", "status", "body", "raw_body", "retry_after", "malformed", "drop", "apply",
    ]

    /// Reads one fault spec or `{"faults": [spec, ...]}`.
    package static func list(from json: JSON) throws(SandboxFaultSpecError) -> [SandboxFault] {
        guard let object = json.objectValue else {
            throw SandboxFaultSpecError("A fault spec must be a JSON object, got \(json.typeName).")
        }
        if let faults = object["faults"] {
            guard object.count == 1, let items = faults.arrayValue else {
                throw SandboxFaultSpecError(#"Expected {"faults": [spec, ...]} with nothing else beside "faults"."#)
            }
            var result: [SandboxFault] = []
            for (index, item) in items.enumerated() {
                do {
                    result.append(try SandboxFault(json: item))
                } catch {
                    throw SandboxFaultSpecError("faults[\(index)]: \(error.message)")
                }
            }
            return result
        }
        return [try SandboxFault(json: json)]
    }

    /// Reads one fault spec (the shape is documented on `SandboxFault`).
    package init(json: JSON) throws(SandboxFaultSpecError) {
        guard let object = json.objectValue else {
            throw SandboxFaultSpecError("A fault spec must be a JSON object, got \(json.typeName).")
        }
        for key in object.keys where !Self.knownMembers.contains(key) {
            throw SandboxFaultSpecError(
                "Unknown member \"\(key)\" in fault spec; known members: \(Self.knownMembers.sorted().joined(separator: ", ")).")
        }

        func string(_ key: String) throws(SandboxFaultSpecError) -> String? {
            guard let value = object[key], !value.isNull else { return nil }
            guard let string = value.stringValue else {
                throw SandboxFaultSpecError("\"\(key)\" must be a string, got \(value.typeName).")
            }
            return string
        }
        func integer(_ key: String, in range: ClosedRange<Int64>) throws(SandboxFaultSpecError) -> Int? {
            guard let value = object[key], !value.isNull else { return nil }
            guard let number = value.intValue, range.contains(number) else {
                throw SandboxFaultSpecError(
                    "\"\(key)\" must be an integer from \(range.lowerBound) to \(range.upperBound), got \(Self.describe(value)).")
            }
            return Int(number)
        }
        func flag(_ key: String) throws(SandboxFaultSpecError) -> Bool {
            guard let value = object[key], !value.isNull else { return false }
            guard let flag = value.boolValue else {
                throw SandboxFaultSpecError("\"\(key)\" must be true or false, got \(value.typeName).")
            }
            return flag
        }

        let method = try string("method")
        let path = try string("path")
        if let path, !path.hasPrefix("/") {
            throw SandboxFaultSpecError("\"path\" must start with \"/\" (e.g. \"/api-key/generate\"), got \"\(path)\".")
        }
        let count = try integer("count", in: 1...1_000_000) ?? 1
        let latencyMs = try integer("latency_ms", in: 0...600_000) ?? 0
        let status = try integer("status", in: 100...599)
        let malformed = try flag("malformed")
        let drop = try flag("drop")
        let apply = try flag("apply")
        let rawBody = try string("raw_body")
        let body = object["body"]

        var retryAfter: String?
        if let value = object["retry_after"], !value.isNull {
            if let seconds = value.intValue, seconds >= 0 {
                retryAfter = String(seconds)
            } else if let text = value.stringValue, !text.isEmpty {
                retryAfter = text
            } else {
                throw SandboxFaultSpecError(
                    "\"retry_after\" must be a non-negative number of seconds or an HTTP date string, got \(Self.describe(value)).")
            }
        }

        if body != nil, rawBody != nil {
            throw SandboxFaultSpecError("Give either \"body\" (JSON) or \"raw_body\" (text), not both.")
        }
        if drop, status != nil || body != nil || rawBody != nil || malformed || retryAfter != nil {
            throw SandboxFaultSpecError(
                "\"drop\" sends no response, so it cannot be combined with \"status\", \"body\", \"raw_body\", \"malformed\" or \"retry_after\".")
        }
        if malformed, body != nil {
            throw SandboxFaultSpecError("\"malformed\" sends a non-JSON body; use \"raw_body\" to choose its text, not \"body\".")
        }
        if status == nil, !malformed, body != nil || rawBody != nil {
            throw SandboxFaultSpecError("\"body\" and \"raw_body\" need a \"status\" (or \"malformed\": true) to go with them.")
        }

        let action: Action
        if drop {
            action = .dropConnection
        } else if malformed {
            action = .respond(
                status: status ?? 200, body: Array((rawBody ?? SandboxResponses.malformedBody).utf8), contentType: "text/html")
        } else if let status = status ?? (retryAfter != nil ? 429 : nil) {
            if let rawBody {
                action = .respond(status: status, body: Array(rawBody.utf8), contentType: "text/plain")
            } else {
                let json = body ?? SandboxResponses.faultBody(status: status)
                action = .respond(status: status, body: SandboxResponses.bytes(json), contentType: "application/json")
            }
        } else {
            action = .delayOnly
        }
        if apply, action == .delayOnly {
            throw SandboxFaultSpecError(
                "\"apply\" only makes sense with \"status\", \"malformed\" or \"drop\": a latency-only fault always performs the operation.")
        }

        self.init(
            method: method, pathPrefix: path, count: count, latency: .milliseconds(latencyMs),
            retryAfter: retryAfter, action: action, apply: apply)
    }

    private static func describe(_ value: JSON) -> String {
        switch value {
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .string(let text): return "\"\(text)\""
        default: return value.typeName
        }
    }
}
