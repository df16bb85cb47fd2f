import JSONRPC
import JanssonJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Methods that exist only when `HYPERSTACK_RPC_TEST_METHODS=1`, so tests can make a
/// request slow (to cancel it) or make the server chatty on stderr (to fill a pipe).
package enum TestOnlyMethods {
    /// The environment variable that enables these methods.
    package static let environmentVariable = "HYPERSTACK_RPC_TEST_METHODS"

    /// Adds `test.sleep {ms}` and `test.stderr {bytes}`.
    package static func register(in table: inout MethodTable) {
        table.register("test.sleep") { params, _ in
            let reader = try ParamsReader(params, method: "test.sleep")
            let milliseconds = try reader.optionalInteger("ms", in: 0...600_000) ?? 0
            try await Task.sleep(for: .milliseconds(milliseconds))
            return .json([:])
        }
        table.register("test.stderr") { params, _ in
            let reader = try ParamsReader(params, method: "test.stderr")
            let total = Int(try reader.optionalInteger("bytes", in: 0...(64 << 20)) ?? 0)
            let line = Array(repeating: UInt8(ascii: "x"), count: 1023) + [UInt8(ascii: "\n")]
            var remaining = total
            while remaining > 0 {
                let count = min(remaining, line.count)
                let written = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, count) }
                guard written > 0 else { break }
                remaining -= written
            }
            return .json([:])
        }
    }
}
