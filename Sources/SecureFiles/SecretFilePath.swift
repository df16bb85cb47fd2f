/// A requested secret file, placed by its text alone: which allowed directory it lies under,
/// and the components below that directory. Nothing is opened here; `SecretFileWriter` then
/// walks the components one `openat` at a time without following symlinks, so what the
/// text says is also where the file lands.
///
/// The rules: a relative request lies inside the secrets directory; an absolute one must
/// start with the secrets directory or an allowed directory, component by component; no
/// component may be `..` (refused, not resolved); `.` and repeated slashes are dropped; the
/// last component names a file, not a directory.
package struct SecretFilePath: Sendable, Equatable {
    /// The allowed directory the file lies under, as in the policy.
    package let root: String
    /// True when `root` is the secrets directory, which must be private (0700).
    package let rootIsSecretsDirectory: Bool
    /// The directories below `root`, then the file's name; never empty.
    package let components: [String]

    /// The file's full path, as results report it.
    package var path: String {
        (root == "/" ? "" : root) + "/" + components.joined(separator: "/")
    }

    package init(root: String, rootIsSecretsDirectory: Bool, components: [String]) {
        self.root = root
        self.rootIsSecretsDirectory = rootIsSecretsDirectory
        self.components = components
    }

    /// The file `name` directly inside the secrets directory (an id-named file).
    package static func inSecretsDirectory(_ name: String, policy: SecretFilePolicy) -> SecretFilePath {
        SecretFilePath(root: policy.secretsDirectory, rootIsSecretsDirectory: true, components: [name])
    }

    /// Places `requested` by the rules above, or says why it cannot go there.
    package static func resolve(_ requested: String, policy: SecretFilePolicy) throws(SecretFileRefusal) -> SecretFilePath {
        guard !requested.isEmpty else { throw SecretFileRefusal("it is empty; give a file name") }
        guard !requested.utf8.contains(0) else { throw SecretFileRefusal("it contains a NUL character") }
        guard requested.utf8.count <= maximumPathBytes else {
            throw SecretFileRefusal("it is longer than \(maximumPathBytes) bytes")
        }
        guard !requested.hasSuffix("/") else {
            throw SecretFileRefusal("it ends with '/', so it names a directory; give a file name")
        }
        let components = requested.split(separator: "/").filter { $0 != "." }.map(String.init)
        if components.contains("..") {
            throw SecretFileRefusal("it contains '..'; give a path without '..' components")
        }
        if let long = components.first(where: { $0.utf8.count > maximumNameBytes }) {
            throw SecretFileRefusal("its component '\(long.prefix(40))...' is longer than \(maximumNameBytes) bytes")
        }
        guard requested.hasPrefix("/") else {
            guard !components.isEmpty else { throw SecretFileRefusal("it names no file") }
            return SecretFilePath(root: policy.secretsDirectory, rootIsSecretsDirectory: true, components: components)
        }
        // The most specific allowed directory wins; the secrets directory wins a tie.
        let roots = [(policy.secretsDirectory, true)] + policy.allowedDirectories.map { ($0, false) }
        var best: (root: String, isSecrets: Bool, depth: Int)?
        for (root, isSecrets) in roots {
            let rootComponents = root.split(separator: "/").map(String.init)
            guard components.count > rootComponents.count,
                Array(components.prefix(rootComponents.count)) == rootComponents
            else { continue }
            if rootComponents.count > best?.depth ?? -1 {
                best = (root, isSecrets, rootComponents.count)
            }
        }
        guard let best else {
            let allowed = roots.map(\.0).joined(separator: ", ")
            throw SecretFileRefusal(
                "it is outside the directories secrets may be written to (\(allowed)); use a relative name, "
                    + "which goes into the secrets directory, or start the server with --allow-secrets-in DIR")
        }
        return SecretFilePath(root: best.root, rootIsSecretsDirectory: best.isSecrets, components: Array(components.dropFirst(best.depth)))
    }

    static let maximumPathBytes = 4000
    static let maximumNameBytes = 255
}

/// Why a requested secret file path was refused before anything was created.
package struct SecretFileRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// Completes "the secret file ... cannot be used: ".
    package let reason: String

    package init(_ reason: String) {
        self.reason = reason
    }

    package var description: String { reason }
}
