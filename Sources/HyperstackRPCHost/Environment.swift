#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Single environment variables, read with `getenv`: at start-up that is far cheaper than
/// building `ProcessInfo.environment`, a dictionary of every variable, to look at three.
package enum Environment {
    package static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
