import DaemonWire
import Foundation
import ForwarderCore
import HyperstackDaemon
import HyperstackForwarder
import HyperstackRPCHost
import HyperstackRPCServer
import JSONRPCStdio

/// Which daemon, if any, a serve or call goes through: `--remote`, else
/// `HYPERSTACK_RPC_REMOTE` (for editors that cannot pass arguments), else none.
enum RemoteChoice {
    static let environmentVariable = "HYPERSTACK_RPC_REMOTE"

    /// The endpoint, or `nil` to serve in this process. A bad environment value stops with status 2.
    static func endpoint(option: String?) -> RemoteEndpoint? {
        let environment: (String) -> String? = Environment.value
        guard let text = option ?? environment(environmentVariable) else { return nil }
        do {
            return try RemoteEndpoint.parse(
                text, fingerprint: BuildFingerprint.ofThisBuild, environment: environment)
        } catch {
            let source = option == nil ? "\(environmentVariable): " : ""
            StandardError.write("hyperstack-rpc: \(source)\(error)\n")
            Foundation.exit(2)
        }
    }

    /// The daemon that `daemon status`/`stop` talk to: `--remote unix:PATH`, else this
    /// build's default socket.
    static func controlPaths(option: String?) throws -> DaemonPaths {
        let environment: (String) -> String? = Environment.value
        let fingerprint = BuildFingerprint.ofThisBuild
        guard let option else { return .defaultPaths(fingerprint: fingerprint, environment: environment) }
        guard let endpoint = try RemoteEndpoint.parse(option, fingerprint: fingerprint, environment: environment) else {
            throw RemoteSpecError(text: option)
        }
        return endpoint.paths
    }
}
