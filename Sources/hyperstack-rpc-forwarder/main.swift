import CProcessStartup
import DaemonWire
import ForwarderCore
import JSONRPC
import JSONRPCStdio
import LogOutput
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// hyperstack-rpc-forwarder: the thin forwarder that `hyperstack-rpc --remote auto` (or
// `unix:PATH`) execs once it is connected to the shared daemon. It inherits that connection
// and reads the rest (the hello with the credential, the socket, framing, logging) from a
// pipe, then forwards stdin and stdout to the daemon for the rest of the session, as
// `ForwardingConnection` does in the full binary. Not meant to be started by hand.

hs_disarm_crash_reporter()

/// `--handoff-fd N --daemon-fd M`, as `ThinForwarder.exec` passes them, or nil.
func inheritedDescriptors(_ arguments: [String]) -> (handoff: Int32, daemon: Int32)? {
    guard arguments.count == 5, arguments[1] == "--handoff-fd", arguments[3] == "--daemon-fd",
        let handoff = Int32(arguments[2]), let daemon = Int32(arguments[4]), handoff > 2, daemon > 2, handoff != daemon
    else { return nil }
    return (handoff, daemon)
}

func fail(_ message: String) -> Never {
    StandardError.write("hyperstack-rpc-forwarder: \(message)\n")
    exit(2)
}

guard let descriptors = inheritedDescriptors(CommandLine.arguments) else {
    fail("this helper is started by `hyperstack-rpc --remote auto`; run that instead")
}
_ = fcntl(descriptors.daemon, F_SETFD, FD_CLOEXEC)
let handoff: ForwarderHandoff
do {
    handoff = try ForwarderHandoff(decoding: ThinForwarder.receive(from: descriptors.handoff))
} catch {
    fail("\(error)")
}
let logger: Logger
do {
    logger = try LoggingSetup.bootstrap(level: Logger.Level(rawValue: handoff.logLevel) ?? .info, file: handoff.logFile)
} catch {
    fail("\(error)")
}
let stdio = StdioServer(
    name: "hyperstack-rpc", version: handoff.version,
    details: [("upstream", "shared daemon at \(handoff.endpoint.paths.socket)")], logger: logger)
let writer: FrameWriter
do {
    writer = try stdio.takeOverStandardOutput()
} catch {
    fail("\(error)")
}
let connector = DaemonConnector(
    endpoint: handoff.endpoint, fingerprint: handoff.hello.fingerprint, serverExecutable: handoff.serverExecutable,
    logger: logger)
let connection = ForwardingConnection(
    descriptor: descriptors.daemon, hello: handoff.hello, connector: connector,
    limits: FramingLimits(maxMessageBytes: handoff.maxMessageBytes), framing: handoff.framing,
    writer: writer, termination: stdio.termination, logger: logger,
    fallback: { try ServerProcessSession(serverExecutable: handoff.serverExecutable, logLevel: handoff.logLevel) })
connection.start()
exit(await stdio.serve(connection, writer: writer))
