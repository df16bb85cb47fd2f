import HTTPTypes
import Hummingbird
import HyperstackSandbox
import InfrahubWire
import JanssonJSON
import Logging
import NIOCore

/// Routes `/v1/...` into the `Sandbox` and `/_sandbox/...` to its control API.
///
/// The whole URL space is handled here rather than with Hummingbird's router because the
/// sandbox does its own routing: it must answer unknown routes and wrong methods the way
/// upstream does, and count them.
struct SandboxResponder: HTTPResponder {
    typealias Context = SandboxRequestContext

    /// Thrown after the channel is closed for a drop fault. Hummingbird's attempt to
    /// answer it with a 500 then fails on the closed channel, so the client sees only EOF.
    struct ConnectionDropped: Error {}

    let sandbox: Sandbox
    /// Largest request body accepted; api-key bodies are a few hundred bytes.
    let maxBodySize: Int

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path == "/v1" || path.hasPrefix("/v1/") {
            return try await forward(request, relativePath: String(path.dropFirst(3)), context: context)
        }
        if path.hasPrefix("/_sandbox/") {
            return await control(request, path: path)
        }
        return Self.json(
            404,
            ["status": false, "message": "The requested URL was not found on the server. The API lives under /v1.", "error_reason": "not_found"]
        )
    }

    /// Hands Hummingbird's HTTPTypes head to the sandbox as it is, with the path made relative to `/v1`.
    private func forward(_ request: Request, relativePath: String, context: Context) async throws -> Response {
        var body: [UInt8]?
        do {
            let buffer = try await request.body.collect(upTo: maxBodySize)
            if buffer.readableBytes > 0 { body = Array(buffer.readableBytesView) }
        } catch {
            return Self.json(413, ["status": false, "message": "The request body is too large.", "error_reason": "bad_request"])
        }
        var path = relativePath.isEmpty ? "/" : relativePath
        if let query = request.uri.query { path += "?" + query }
        var head = request.head
        head.path = path

        let reply = await sandbox.handle(InfrahubRequest(head: head, body: body))
        if reply.latency > .zero {
            try await Task.sleep(for: reply.latency)
        }
        switch reply {
        case .response(let response, _):
            return Response(
                status: response.head.status, headers: response.head.headerFields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
        case .dropConnection:
            context.logger.debug("Closing the connection without a response (injected fault)")
            try? await context.channel.close()
            throw ConnectionDropped()
        }
    }

    /// `GET /_sandbox/stats`, `POST /_sandbox/faults`, `POST /_sandbox/reset`. No auth:
    /// the sandbox is a local test tool and these are how tests steer it, which is why
    /// `hyperstack-sandbox` listens on loopback only unless `--allow-remote-control`.
    private func control(_ request: Request, path: String) async -> Response {
        switch (request.method, path) {
        case (.get, "/_sandbox/stats"):
            return Self.json(200, await sandbox.stats().json)
        case (.post, "/_sandbox/faults"):
            let json: JSON
            do {
                let buffer = try await request.body.collect(upTo: maxBodySize)
                json = try JSON.parse(Array(buffer.readableBytesView))
            } catch {
                return Self.badRequest("The fault spec is not valid JSON: \(error).")
            }
            do {
                let added = try await sandbox.injectFaults(json: json)
                let pending = await sandbox.stats().pendingFaults
                return Self.json(200, ["status": true, "injected": .int(Int64(added)), "pending_faults": .int(Int64(pending))])
            } catch {
                return Self.badRequest(error.message)
            }
        case (.post, "/_sandbox/reset"):
            do {
                try await sandbox.reset()
                return Self.json(200, ["status": true, "message": "Sandbox reset"])
            } catch {
                return Self.json(500, ["status": false, "message": .string(error.description), "error_reason": "server_error"])
            }
        case (_, "/_sandbox/stats"), (_, "/_sandbox/faults"), (_, "/_sandbox/reset"):
            return Self.json(405, ["status": false, "message": "The method is not allowed for the requested URL.", "error_reason": "method_not_allowed"])
        default:
            return Self.json(404, ["status": false, "message": "Unknown sandbox control endpoint.", "error_reason": "not_found"])
        }
    }

    private static func badRequest(_ message: String) -> Response {
        json(400, ["status": false, "message": .string(message), "error_reason": "bad_request"])
    }

    private static func json(_ status: Int, _ body: JSON) -> Response {
        let bytes = (try? body.serialized()) ?? Array("{}".utf8)
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
