import JSONRPCStdio
import JanssonJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a one-shot call ended, for a shell: the response, and the exit status that says where
/// its content went. 0: the result is on stdout; 1: the method failed and the error object is
/// on stderr; 3: the method succeeded but its result could not be written to stdout, which
/// stderr explains. (2, a usage error, never gets this far.)
package struct CallOutcome: Sendable {
    package let response: JSON
    package let exitStatus: Int32

    /// Exit status when the method succeeded but its result could not be written to stdout.
    static let undeliveredStatus: Int32 = 3

    /// Writes the result to stdout, or the error to stderr, and says which happened.
    package static func deliver(_ response: JSON, of method: String) throws -> CallOutcome {
        if let result = response["result"] {
            let failure = OutputDescriptor.writeAll(STDOUT_FILENO, try result.serialized() + [UInt8(ascii: "\n")])
            if failure != 0 {
                StandardError.write(undeliveredMessage(method: method, result: result, errorNumber: failure))
                return CallOutcome(response: response, exitStatus: undeliveredStatus)
            }
            return CallOutcome(response: response, exitStatus: 0)
        }
        let error = response["error"] ?? ["code": -32603, "message": "no response"]
        StandardError.write(String(decoding: try error.serialized(), as: UTF8.self) + "\n")
        return CallOutcome(response: response, exitStatus: 1)
    }

    /// Says that the operation itself happened, and for a generated key that its secret is
    /// lost (it is never printed anywhere else, so this message does not carry it either).
    static func undeliveredMessage(method: String, result: JSON, errorNumber: Int32) -> String {
        let cause = String(cString: strerror(errorNumber))
        var message = "hyperstack-rpc: \(method) succeeded, but its result could not be written to standard output (\(cause))."
        if method == "apiKeys.generate" {
            let id = result["key"]?["id"]?.intValue.map { " \($0)" } ?? ""
            message += " The key\(id) was created, but its secret could not be delivered and cannot be shown again: "
                + "delete key\(id) and generate a new one."
        }
        return message + "\n"
    }
}
