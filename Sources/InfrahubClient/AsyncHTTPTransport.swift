import AsyncHTTPClient
import Foundation
import HTTPTypes
import InfrahubWire
import Logging
import NIOCore
import NIOHTTP1

/// A base URL that `AsyncHTTPTransport.validatedBaseURL` accepted, so that a transport built
/// from it later (lazily, on first use) has nothing left that can fail.
package struct ValidatedBaseURL: Sendable {
    /// Without trailing slashes, e.g. `https://infrahub-api.nexgencloud.com/v1`.
    package let string: String
}

/// The production transport: carries Infrahub requests over HTTP(S) with AsyncHTTPClient.
///
/// It owns its `HTTPClient` because it needs settings the shared one lacks: redirects
/// are followed here (see `RedirectPolicy`) so `api_key` never leaves its origin, and a
/// refused connection fails at once instead of being retried inside the pool, so that
/// the caller learns the request provably never left (`TransportFailure.connectionRefused`).
/// Call `shutdown()` before dropping it.
package final class AsyncHTTPTransport: InfrahubTransport {
    /// The base URL without a trailing slash, e.g. `https://infrahub-api.nexgencloud.com/v1`.
    private let baseURL: String
    private let httpClient: HTTPClient
    private let logger: Logger?

    /// Largest response body accepted; api-key answers are a few kilobytes.
    static let maxResponseBytes = 4 * 1024 * 1024

    /// Builds from a base URL checked earlier (at start-up, say), so building cannot fail.
    ///
    /// - Parameters:
    ///   - baseURL: `https://infrahub-api.nexgencloud.com/v1`, or `http://127.0.0.1:PORT/v1` for a local sandbox.
    ///     Request paths are appended to its path.
    ///   - connectTimeout: How long opening a connection may take.
    ///   - readIdleTimeout: How long a read may wait for the next bytes, while the answer's head or
    ///     body is awaited; nil leaves only each request's own deadline (which covers the body too).
    ///   - logger: For redirect decisions at trace level; never sees headers or bodies.
    package init(
        baseURL: ValidatedBaseURL, connectTimeout: Duration = .seconds(10), readIdleTimeout: Duration? = nil,
        logger: Logger? = nil
    ) {
        self.baseURL = baseURL.string
        self.logger = logger

        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: Self.timeAmount(connectTimeout), read: readIdleTimeout.map(Self.timeAmount))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// `baseURL` without trailing slashes, if it is an absolute http(s) URL without query or fragment.
    package static func validatedBaseURL(_ baseURL: String) throws(InvalidBaseURL) -> ValidatedBaseURL {
        var trimmed = baseURL.trimmingWhitespace()
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host?.isEmpty == false,
            url.query == nil, url.fragment == nil
        else { throw InvalidBaseURL(baseURL: baseURL) }
        return ValidatedBaseURL(string: trimmed)
    }

    /// Closes pooled connections. The transport cannot be used afterwards.
    package func shutdown() async throws {
        try await httpClient.shutdown()
    }

    package func send(_ request: InfrahubRequest, timeout: Duration) async throws(TransportFailure) -> InfrahubResponse {
        let deadline = NIODeadline.now() + Self.timeAmount(timeout)
        let path = request.head.path ?? "/"
        var url = baseURL + (path.hasPrefix("/") ? path : "/" + path)
        var method = request.head.method
        var headers = request.head.headerFields
        var body = request.body
        var redirects = 0
        while true {
            let response = try await sendOnce(url: url, method: method, headers: headers, body: body, deadline: deadline)
            guard redirects < RedirectPolicy.maxRedirects,
                let step = RedirectPolicy.follow(
                    status: response.head.status.code,
                    location: response.head.headerFields[fields: .location].first?.value, from: url, method: method,
                    headers: headers, body: body)
            else { return response }
            redirects += 1
            logger?.trace(
                "Following Infrahub redirect",
                metadata: [
                    "status": "\(response.head.status.code)", "method": "\(step.method)",
                    "credentials_stripped": "\(step.strippedCredentials)",
                ])
            (url, method, headers, body) = (step.url, step.method, step.headers, step.body)
        }
    }

    private func sendOnce(
        url: String, method: HTTPRequest.Method, headers: HTTPFields, body: [UInt8]?, deadline: NIODeadline
    ) async throws(TransportFailure) -> InfrahubResponse {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.rawValue)
        for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, deadline: deadline)
        } catch {
            throw TransportFailure.classifying(error)
        }
        // HTTPTypes traps on a status outside 0...999; NIO's parser never produces one, but a
        // hostile server must not be able to crash us if it ever did.
        let code = Int(response.status.code)
        guard (0...999).contains(code) else { throw TransportFailure.other("the answer was not valid HTTP") }
        let bytes = try await Self.collect(response.body, upTo: Self.maxResponseBytes, deadline: deadline)
        var fields = HTTPFields()
        for (name, value) in response.headers {
            // NIO has parsed these as HTTP tokens already; a name HTTPTypes rejects is dropped.
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return InfrahubResponse(head: HTTPResponse(status: .init(code: code), headerFields: fields), body: bytes)
    }

    /// The whole body, by `deadline`.
    ///
    /// `execute`'s deadline ends once the head has arrived, so a server that sends its headers
    /// and then trickles (or stops sending) the body would hold the request, and every caller
    /// sharing it, forever. The body therefore races the rest of the deadline; when the deadline
    /// wins, cancelling the collection cancels the request and closes its connection.
    static func collect(
        _ body: HTTPClientResponse.Body, upTo maxBytes: Int, deadline: NIODeadline
    ) async throws(TransportFailure) -> [UInt8] {
        do {
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var buffer = try await body.collect(upTo: maxBytes)
                    return buffer.readBytes(length: buffer.readableBytes) ?? []
                }
                group.addTask {
                    let remaining = deadline.uptimeNanoseconds.subtractingReportingOverflow(NIODeadline.now().uptimeNanoseconds)
                    if !remaining.overflow, remaining.partialValue > 0 {
                        try await Task.sleep(for: .nanoseconds(Int64(clamping: remaining.partialValue)))
                    }
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let bytes = first else {
                    throw TransportFailure.responseTimedOut("its body did not arrive in full before the deadline")
                }
                return bytes
            }
        } catch is NIOTooManyBytesError {
            // Its own `maxBytes` is not always the limit asked for: name ours.
            throw TransportFailure.tooLarge(maxBytes: maxBytes)
        } catch {
            throw TransportFailure.classifyingBody(error)
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let parts = duration.components
        let nanoseconds = parts.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .nanoseconds(Int64.max) }
        return .nanoseconds(max(0, nanoseconds.partialValue + parts.attoseconds / 1_000_000_000))
    }
}

/// A base URL that cannot address the Infrahub API.
package struct InvalidBaseURL: Error, Sendable, Equatable, CustomStringConvertible {
    package var baseURL: String
    package var description: String {
        "The Infrahub base URL \"\(baseURL)\" is not an absolute http(s) URL such as https://infrahub-api.nexgencloud.com/v1."
    }
}
