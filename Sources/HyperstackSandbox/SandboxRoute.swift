/// The four api-key routes, named by their templates so statistics read like the docs.
package enum SandboxRoute: String, Sendable, CaseIterable, Hashable {
    case list = "GET /api-key"
    case generate = "POST /api-key/generate"
    case update = "PUT /api-key/{id}"
    case delete = "DELETE /api-key/{id}"
}

/// Where a request path (relative to `/v1`) leads, before the method is considered.
enum SandboxPath: Equatable {
    /// `/api-key`
    case collection
    /// `/api-key/generate`
    case generate
    /// `/api-key/{segment}`; the segment is checked for being an integer later, so a
    /// bad id is a 400 (as upstream) rather than an unknown route.
    case item(String)
    case unknown

    init(_ rawPath: String) {
        var path = Substring(rawPath)
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            path = path[..<query]
        }
        if path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        // A leading "/" yields an empty first segment.
        guard segments.count >= 2, segments[0].isEmpty, segments[1] == "api-key" else {
            self = .unknown
            return
        }
        switch segments.count {
        case 2: self = .collection
        case 3 where segments[2] == "generate": self = .generate
        case 3: self = .item(String(segments[2]))
        default: self = .unknown
        }
    }

    /// The route for `method` on this path, or the methods that would have been allowed.
    func route(for method: String) -> Result<SandboxRoute, MethodNotAllowed> {
        switch (self, method) {
        case (.collection, "GET"): return .success(.list)
        case (.generate, "POST"): return .success(.generate)
        case (.item, "PUT"): return .success(.update)
        case (.item, "DELETE"): return .success(.delete)
        case (.collection, _): return .failure(MethodNotAllowed(allowed: ["GET"]))
        case (.generate, _): return .failure(MethodNotAllowed(allowed: ["POST"]))
        case (.item, _): return .failure(MethodNotAllowed(allowed: ["PUT", "DELETE"]))
        case (.unknown, _): return .failure(MethodNotAllowed(allowed: []))
        }
    }

    struct MethodNotAllowed: Error {
        /// Empty when the path itself is unknown (a 404 rather than a 405).
        var allowed: [String]
    }
}
