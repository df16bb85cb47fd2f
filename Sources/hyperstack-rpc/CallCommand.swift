import ArgumentParser
import Foundation
import ForwarderCore
import HyperstackForwarder
import HyperstackRPCHost
import JanssonJSON
import LogOutput
import Logging

/// `hyperstack-rpc call METHOD [PARAMS_JSON]`: one request, for shells.
///
/// The request goes through a session of the same server (`HyperstackServer.call`), so a
/// one-shot behaves exactly like a session. The result goes to stdout; an error object
/// goes to stderr with exit status 1; a usage error exits with 2; a result that cannot be
/// written to stdout (a full disk, a closed pipe) exits with 3 and says on stderr that the
/// operation itself succeeded.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Run one method and print its result as JSON.",
        discussion: """
            Example: hyperstack-rpc call apiKeys.list '{}' --sandbox | jq '.keys[].name'
            With --remote auto, the call is answered by the shared daemon, from its warm cache.
            Exit status: 0 the result is on stdout; 1 the method failed (the error object is on stderr); \
            2 usage error; 3 the method succeeded but its result could not be written to stdout. \
            With --sandbox-state, waits up to 10 s for another process using that file.
            """
    )

    @Argument(help: "The method, e.g. apiKeys.list.")
    var method: String

    @Argument(help: "Params as a JSON object (default: {}).")
    var params: String?

    @OptionGroup var options: SharedOptions

    func validate() throws {
        if let params {
            let parsed: JSON
            do {
                parsed = try JSON.parse(params)
            } catch {
                throw ValidationError("PARAMS_JSON is not valid JSON: \(error)")
            }
            guard parsed.objectValue != nil || parsed.arrayValue != nil else {
                throw ValidationError("PARAMS_JSON must be a JSON object, not \(parsed.typeName)")
            }
        }
    }

    func run() async throws {
        let logger = try LoggingSetup.bootstrap(level: options.logLevel ?? .warning, file: options.logFile)
        let parsed = try params.map { try JSON.parse($0) }
        let outcome: CallOutcome
        if let remote = RemoteChoice.endpoint(option: options.remote) {
            outcome = try await Forwarder.call(
                method, params: parsed, settings: options.settings, endpoint: remote, secretFiles: options.secretFiles,
                logger: logger)
        } else {
            outcome = try await HyperstackServer.call(
                method, params: parsed, settings: options.settings, secretFiles: options.secretFiles, logger: logger)
        }
        Foundation.exit(outcome.exitStatus)
    }
}
