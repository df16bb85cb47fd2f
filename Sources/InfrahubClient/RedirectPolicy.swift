import Foundation
import HTTPTypes
import InfrahubWire

/// Follows HTTP redirects without ever handing the `api_key` header to another origin.
///
/// AsyncHTTPClient's own redirect handling strips `Authorization` and `Cookie` across
/// origins but knows nothing of Infrahub's `api_key` header, so the transport disables it
/// and asks this policy what to do with each 3xx instead.
enum RedirectPolicy {
    /// Most redirects followed for one request.
    static let maxRedirects = 5

    /// Header fields that carry credentials and must stay with the origin they were meant for.
    static let credentialHeaders: [HTTPField.Name] = [.apiKey, .authorization, .cookie, .proxyAuthorization]

    /// The request to send next.
    struct Step: Sendable, Equatable {
        var url: String
        var method: HTTPRequest.Method
        var headers: HTTPFields
        var body: [UInt8]?
        /// Whether credentials were removed because the target is another origin.
        var strippedCredentials: Bool
    }

    /// The follow-up request for a redirect response, or nil when `status` is not a redirect
    /// that can be followed (no usable `Location`, or a scheme other than http/https).
    static func follow(
        status: Int, location: String?, from currentURL: String, method: HTTPRequest.Method, headers: HTTPFields,
        body: [UInt8]?
    ) -> Step? {
        guard [301, 302, 303, 307, 308].contains(status), let location, !location.isEmpty,
            let base = URL(string: currentURL),
            let target = URL(string: location, relativeTo: base)?.absoluteURL,
            let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https",
            target.host?.isEmpty == false
        else { return nil }

        var nextMethod = method
        var nextHeaders = headers
        var nextBody = body
        // As browsers and AsyncHTTPClient do: 303 always, and 301/302 after a POST, become a GET.
        if (status == 303 && method != .head) || ((status == 301 || status == 302) && method == .post) {
            nextMethod = .get
            nextBody = nil
            nextHeaders[.contentType] = nil
            nextHeaders[.contentLength] = nil
        }
        let crossOrigin = !sameOrigin(base, target)
        if crossOrigin {
            for name in credentialHeaders { nextHeaders[name] = nil }
        }
        return Step(
            url: target.absoluteString, method: nextMethod, headers: nextHeaders, body: nextBody,
            strippedCredentials: crossOrigin)
    }

    /// Same scheme, host and port; a change of scheme (an https → http downgrade included) is another origin.
    static func sameOrigin(_ lhs: URL, _ rhs: URL) -> Bool {
        guard let lhsScheme = lhs.scheme?.lowercased(), let rhsScheme = rhs.scheme?.lowercased() else { return false }
        return lhsScheme == rhsScheme
            && lhs.host?.lowercased() == rhs.host?.lowercased()
            && effectivePort(lhs, scheme: lhsScheme) == effectivePort(rhs, scheme: rhsScheme)
    }

    private static func effectivePort(_ url: URL, scheme: String) -> Int? {
        url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : nil)
    }
}
