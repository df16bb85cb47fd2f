#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a generated key's secret may be written, so that it reaches a file instead of an
/// agent's context or an editor's trace log: inside the secrets directory (`--secrets-dir`,
/// created 0700), or under a directory the user allowed (`--allow-secrets-in`). Both are
/// absolute and lexically normal (no `.`, `..` or repeated `/`), so a request can be matched
/// against them component by component.
package struct SecretFilePolicy: Sendable, Equatable {
    /// Where relative requests resolve and id-named files go.
    package let secretsDirectory: String
    /// Further directories under which an absolute request may put a file.
    package let allowedDirectories: [String]

    /// - Parameters: paths as the user gave them; relative ones are taken from the current
    ///   directory now, and `..` is resolved textually (these come from the command line,
    ///   which the user controls; requests are held to stricter rules, see `SecretFilePath`).
    package init(secretsDirectory: String, allowedDirectories: [String] = []) {
        self.secretsDirectory = Self.absolute(secretsDirectory)
        self.allowedDirectories = allowedDirectories.map(Self.absolute)
    }

    /// `$XDG_STATE_HOME/hyperstack-rpc/secrets`, else `$HOME/.local/state/hyperstack-rpc/secrets`
    /// (the home from the password database when `HOME` is unset). A relative
    /// `XDG_STATE_HOME` is ignored, as the XDG specification says.
    package static func defaultSecretsDirectory(environment: (String) -> String?) -> String {
        if let state = environment("XDG_STATE_HOME"), state.hasPrefix("/") {
            return state + "/hyperstack-rpc/secrets"
        }
        let home = environment("HOME").flatMap { $0.isEmpty ? nil : $0 } ?? passwordHome() ?? "/"
        return home + "/.local/state/hyperstack-rpc/secrets"
    }

    /// The default policy: the default secrets directory and nothing else.
    package static func standard(environment: (String) -> String?) -> SecretFilePolicy {
        SecretFilePolicy(secretsDirectory: defaultSecretsDirectory(environment: environment))
    }

    /// `path` made absolute against the current directory, then lexically normalised.
    static func absolute(_ path: String) -> String {
        var full = path
        if !path.hasPrefix("/") {
            var current = "/"
            if let pointer = getcwd(nil, 0) {
                current = String(cString: pointer)
                free(pointer)
            }
            full = current + "/" + path
        }
        var components: [Substring] = []
        for component in full.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": _ = components.popLast()
            default: components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }

    private static func passwordHome() -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(geteuid(), &entry, &buffer, buffer.count, &result) == 0, let result,
            let directory = result.pointee.pw_dir
        else { return nil }
        let home = String(cString: directory)
        return home.isEmpty ? nil : home
    }
}
