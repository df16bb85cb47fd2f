import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@testable import JSONRPCStdio

/// The first reason to stop wins, whichever thread asks, and the parent watch is one of them.
@Suite struct TerminationTests {
    @Test func theFirstReasonRequestedWins() async {
        let termination = Termination()
        termination.request(.signal(SIGTERM))
        termination.request(.endOfInput)
        #expect(await termination.firstReason() == .signal(SIGTERM))
    }

    @Test func aParentThatIsGoneStopsTheServer() async {
        let termination = Termination()
        // A pid that cannot exist (above any pid_max), so the watch fires on its first look.
        termination.watchParent(processID: Int32.max)
        #expect(await termination.firstReason() == .parentExited)
    }

    @Test func theStatusLineSaysStartingUntilThereIsSomethingToDescribe() {
        let status = StatusLine()
        #expect(status.text.hasPrefix("status: starting, up "))
        status.describe { "hyperstack-rpc 0.1.0, framing lsp" }
        #expect(status.text.hasPrefix("status: hyperstack-rpc 0.1.0, framing lsp, up "))
        #expect(status.text.hasSuffix(" s"))
    }
}
