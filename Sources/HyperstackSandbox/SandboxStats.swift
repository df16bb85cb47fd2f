import JanssonJSON

/// What the sandbox has seen since it started or was last reset.
package struct SandboxStats: Sendable, Equatable {
    /// Requests per route, counted whether they succeeded, failed auth or were faulted.
    package var requests: [SandboxRoute: Int]
    /// Requests that matched none of the four routes (unknown path or wrong method).
    package var unrouted: Int
    /// Keys currently stored (configured keys are not counted).
    package var keyCount: Int
    /// Faults still waiting for a matching request.
    package var pendingFaults: Int

    package init(requests: [SandboxRoute: Int] = [:], unrouted: Int = 0, keyCount: Int = 0, pendingFaults: Int = 0) {
        self.requests = requests
        self.unrouted = unrouted
        self.keyCount = keyCount
        self.pendingFaults = pendingFaults
    }

    /// Requests seen for `route`; zero when none.
    package subscript(route: SandboxRoute) -> Int { requests[route] ?? 0 }

    /// The shape `GET /_sandbox/stats` answers with:
    /// `{"requests": {"GET /api-key": 3, ...}, "unrouted": 0, "keys": 1, "pending_faults": 0}`.
    /// Every route is present, in the documented order, even at zero.
    package var json: JSON {
        var counts = JSONObject()
        for route in SandboxRoute.allCases {
            counts[route.rawValue] = .int(Int64(self[route]))
        }
        return [
            "requests": .object(counts),
            "unrouted": .int(Int64(unrouted)),
            "keys": .int(Int64(keyCount)),
            "pending_faults": .int(Int64(pendingFaults)),
        ]
    }
}
