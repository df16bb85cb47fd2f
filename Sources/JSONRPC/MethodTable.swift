import JanssonJSON

/// Serves one request. Throw `RPCError` for a protocol error the client should see;
/// any other error becomes a generic -32603, so internal details never leak.
public typealias RPCMethodHandler = @Sendable (_ params: JSON?, _ context: RequestContext) async throws -> RPCResult

/// Handles one notification. It cannot fail visibly: notifications are never answered.
public typealias RPCNotificationHandler = @Sendable (_ params: JSON?) async -> Void

/// The methods a connection serves, by name. The lifecycle methods (`initialize`,
/// `initialized`, `shutdown`, `exit`) and `$/` methods are built into the connection.
public struct MethodTable: Sendable {
    private(set) var requests: [String: RPCMethodHandler] = [:]
    private(set) var notifications: [String: RPCNotificationHandler] = [:]

    public init() {}

    /// Registers a request handler, replacing any earlier one of the same name. A
    /// notification naming this method runs the handler too, and its outcome is dropped.
    public mutating func register(_ method: String, handler: @escaping RPCMethodHandler) {
        requests[method] = handler
    }

    /// Registers a notification handler, replacing any earlier one of the same name.
    public mutating func registerNotification(_ method: String, handler: @escaping RPCNotificationHandler) {
        notifications[method] = handler
    }

    /// The names of the registered request methods, sorted; for discovery and logs.
    public var requestMethods: [String] { requests.keys.sorted() }
}
