import JSONRPC
import JanssonJSON

/// The lenient LSP lifecycle as a state machine: `initialize` is optional but, when sent,
/// must be the first request and come once; after `shutdown` every request is refused;
/// `exit` exits with 0 after `shutdown`, else 1. Notifications other than `exit` pass in
/// every state.
package struct LSPLifecycle: SessionLifecycle, Equatable {
    /// Any request seen; `initialize` is refused after this.
    package private(set) var receivedRequest = false
    package private(set) var receivedInitialize = false
    /// `shutdown` seen: later requests are refused and `exit` reports success.
    package private(set) var shutdownRequested = false

    package init() {}

    package mutating func admit(request method: String, params: JSON?) -> RequestAdmission {
        if shutdownRequested {
            return .refuse(.invalidRequest("the server is shutting down; only the 'exit' notification is accepted"))
        }
        if method == "initialize" {
            if receivedInitialize {
                return .refuse(.invalidRequest("'initialize' was already received; send it only once"))
            }
            if receivedRequest {
                return .refuse(.invalidRequest("'initialize' must be the first request, but other requests came before it"))
            }
            receivedRequest = true
            receivedInitialize = true
            return .initialize
        }
        receivedRequest = true
        if method == "shutdown" {
            shutdownRequested = true
            return .shutdown
        }
        return .proceed
    }

    package mutating func admit(notification method: String) -> NotificationAdmission {
        method == "exit" ? .exit(code: shutdownRequested ? 0 : 1) : .proceed
    }
}
