import JSONRPC

/// MCP's handshake-era lifecycle as a state machine: `initialize` comes first and once; before
/// it only `ping` is served; there is no `shutdown` or `exit` (a stdio client ends the
/// session by closing the input). Every notification passes.
package struct MCPLifecycle: SessionLifecycle, Equatable {
    package private(set) var receivedInitialize = false

    package init() {}

    package mutating func admit(request method: String) -> RequestAdmission {
        if method == "initialize" {
            if receivedInitialize {
                return .refuse(.invalidRequest("'initialize' was already received; send it once per connection"))
            }
            receivedInitialize = true
            return .initialize
        }
        if !receivedInitialize && method != "ping" {
            return .refuse(
                .invalidRequest(
                    "send 'initialize' first: this MCP server speaks the handshake revisions "
                        + MCPProtocolVersion.supported.joined(separator: ", ")))
        }
        return .proceed
    }

    package mutating func admit(notification method: String) -> NotificationAdmission {
        .proceed
    }
}
