import JSONRPCStdio
import Testing

@Suite struct OneTimeSignalTests {
    @Test func waitersBeforeAndAfterTheSignalReturn() async {
        let signal = OneTimeSignal()
        async let early: Void = signal.wait()
        try? await Task.sleep(for: .milliseconds(20))
        signal.signal()
        await early
        #expect(await signal.wait(timeout: .seconds(5)))
    }

    @Test func aTimeoutEndsTheWaitUnsignalled() async {
        let signal = OneTimeSignal()
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await signal.wait(timeout: .milliseconds(50)) == false)
        #expect(clock.now - start >= .milliseconds(45))
        signal.signal()
        #expect(await signal.wait(timeout: .milliseconds(50)))
    }
}
