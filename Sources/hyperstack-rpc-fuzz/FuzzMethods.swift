import JSONRPC
import JanssonJSON

/// The error code of the `fail` method; every other code a response may carry is a
/// standard JSON-RPC or LSP one.
let fuzzFailureCode = 4711

/// A small method table that reaches every answer path of the connection: results as
/// values and pre-serialised, RPC and unexpected errors, a result that cannot be
/// serialised, notifications written before the response, suspension and cancellation.
func fuzzMethods() -> MethodTable {
    var table = MethodTable()
    table.register("echo") { params, _ in .json(params ?? .null) }
    table.register("cached") { _, _ in .serialized(Array(#"{"cached":true,"list":[1,2,3]}"#.utf8)) }
    table.register("fail") { params, _ in
        throw RPCError(code: fuzzFailureCode, message: "fuzz failure", data: params)
    }
    table.register("boom") { _, _ in
        struct Boom: Error {}
        throw Boom()
    }
    table.register("nan") { _, _ in .json(.double(.nan)) }
    table.register("notify") { params, context in
        context.notify("fuzz/progress", params: params ?? .null)
        return .json(true)
    }
    table.register("yield") { _, context in
        await Task.yield()
        if context.isCancelled { throw CancellationError() }
        return .json(.int(1))
    }
    table.register("sleep") { _, _ in
        try await Task.sleep(for: .microseconds(200))
        return .json("slept")
    }
    table.registerNotification("fuzz/note") { _ in }
    return table
}
