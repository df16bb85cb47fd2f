#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Single environment variables, read with `getenv`: at start-up that is far cheaper than
/// building `ProcessInfo.environment`, a dictionary of every variable, to look at two.
enum Environment {
    static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace or newlines (`Character.isWhitespace`,
    /// Unicode's White_Space), without loading Foundation's character-set tables.
    var trimmingWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
            let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
