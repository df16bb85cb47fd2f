import JSONRPCStdio
import Testing

/// Every transition of the frame writer's state machine, without threads or descriptors:
/// each test plays the lock holder, feeds events and checks the action it is told to take.
@Suite struct FrameWriterStateTests {
    typealias State = FrameWriterState

    /// A pipe the writer writes inline, with small limits so tests stay short.
    func pipeState(highWaterMark: Int = 100, corkLimit: Int = 10) -> State {
        State(writesInline: true, highWaterMark: highWaterMark, corkLimit: corkLimit)
    }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: - Inline writes

    @Test func aPipeStartsIdleAndATerminalStartsWithTheBacklogThread() {
        #expect(pipeState().phase == .idle)
        #expect(State(writesInline: false, highWaterMark: 100, corkLimit: 10).phase == .backlogged)
    }

    @Test func aFrameWithNothingQueuedIsWrittenInlineAsItIs() {
        var state = pipeState()
        #expect(state.enqueue(bytes("abc")) == .write(bytes("abc")))
        #expect(state.phase == .writingInline)
        #expect(state.queuedBytes == 3)
    }

    @Test func aCompletedInlineWriteNobodyWaitsForWakesNobody() {
        var state = pipeState()
        _ = state.enqueue(bytes("abc"))
        #expect(state.writeFinished(bytes("abc"), .complete) == .init(wakeWaiters: false))
        #expect(state.phase == .idle)
        #expect(state.queuedBytes == 0)
        #expect(state.producerStep() == .none)
    }

    @Test func aCompletedInlineWriteWakesAThreadWaitingForCapacity() {
        var state = pipeState()
        _ = state.enqueue(bytes("abc"))
        state.waiterArrived()
        #expect(state.writeFinished(bytes("abc"), .complete) == .init(wakeWaiters: true))
        state.waiterLeft()
        #expect(state.waiters == 0)
    }

    @Test func framesQueuedDuringAnInlineWriteAreWrittenNextByTheSameThreadInOrder() {
        var state = pipeState()
        _ = state.enqueue(bytes("a"))
        #expect(state.enqueue(bytes("b")) == .none)
        #expect(state.enqueue(bytes("c")) == .none)
        #expect(state.queuedBytes == 3)
        _ = state.writeFinished(bytes("a"), .complete)
        #expect(state.producerStep() == .write(bytes("bc")))
        #expect(state.phase == .writingInline)
        _ = state.writeFinished(bytes("bc"), .complete)
        #expect(state.producerStep() == .none)
        #expect(state.queuedBytes == 0)
    }

    // MARK: - Corking

    @Test func corkedFramesWaitForTheLastUncorkAndLeaveAsOneBuffer() {
        var state = pipeState(corkLimit: 100)
        state.cork()
        state.cork()
        #expect(state.enqueue(bytes("a")) == .none)
        #expect(state.enqueue(bytes("b")) == .none)
        #expect(state.phase == .idle)
        #expect(state.uncork() == .none)
        #expect(state.corkDepth == 1)
        #expect(state.uncork() == .write(bytes("ab")))
        #expect(state.corkDepth == 0)
        #expect(state.phase == .writingInline)
    }

    @Test func aCorkReleasesFramesOnceItHoldsItsLimit() {
        var state = pipeState(corkLimit: 4)
        state.cork()
        #expect(state.enqueue(bytes("ab")) == .none)
        #expect(state.enqueue(bytes("cd")) == .write(bytes("abcd")))
        #expect(state.corkDepth == 1)
    }

    @Test func aSingleFrameAsBigAsTheCorkLimitGoesStraightOut() {
        var state = pipeState(corkLimit: 4)
        state.cork()
        #expect(state.enqueue(bytes("abcd")) == .write(bytes("abcd")))
    }

    @Test func uncorkingWhileAnotherThreadWritesLeavesTheFramesToThatThread() {
        var state = pipeState()
        _ = state.enqueue(bytes("a"))
        state.cork()
        _ = state.enqueue(bytes("b"))
        #expect(state.uncork() == .none)
        _ = state.writeFinished(bytes("a"), .complete)
        #expect(state.producerStep() == .write(bytes("b")))
    }

    // MARK: - A full pipe and the backlog thread

    @Test func aFullPipeHandsTheRestToTheBacklogThreadAheadOfNewerFrames() {
        var state = pipeState()
        _ = state.enqueue(bytes("abcdef"))
        _ = state.enqueue(bytes("g"))
        #expect(state.writeFinished(bytes("abcdef"), .full(written: 2)) == .init(wakeWaiters: true))
        #expect(state.phase == .backlogged)
        #expect(state.queuedBytes == 5)
        // Producers no longer write, they wake the backlog thread, which writes the rest first.
        #expect(state.producerStep() == .wakeBacklogWriter)
        #expect(state.phase == .backlogged)
        #expect(state.backlogWriterStep() == .write(bytes("cdefg")))
        #expect(state.phase == .writingBacklog)
    }

    @Test func whileBackloggedAProducerWakesTheBacklogThreadUnlessCorked() {
        var state = pipeState(corkLimit: 100)
        _ = state.enqueue(bytes("abc"))
        _ = state.writeFinished(bytes("abc"), .full(written: 1))
        #expect(state.enqueue(bytes("d")) == .wakeBacklogWriter)
        state.cork()
        #expect(state.enqueue(bytes("e")) == .none)
        #expect(state.uncork() == .wakeBacklogWriter)
    }

    @Test func framesQueuedWhileTheBacklogThreadWritesWaitForItsNextRound() {
        var state = pipeState()
        _ = state.enqueue(bytes("abc"))
        _ = state.writeFinished(bytes("abc"), .full(written: 1))
        #expect(state.backlogWriterStep() == .write(bytes("bc")))
        #expect(state.enqueue(bytes("d")) == .none)
        #expect(state.backlogWriterStep() == .wait)
        #expect(state.writeFinished(bytes("bc"), .complete) == .init(wakeWaiters: false))
        #expect(state.phase == .backlogged)
        #expect(state.backlogWriterStep() == .write(bytes("d")))
    }

    @Test func aDrainedBacklogGivesTheQueueBackToInlineWrites() {
        var state = pipeState()
        _ = state.enqueue(bytes("abc"))
        _ = state.writeFinished(bytes("abc"), .full(written: 1))
        _ = state.backlogWriterStep()
        #expect(state.writeFinished(bytes("bc"), .complete) == .init(wakeWaiters: false))
        #expect(state.phase == .idle)
        #expect(state.queuedBytes == 0)
        #expect(state.backlogWriterStep() == .wait)
        #expect(state.enqueue(bytes("x")) == .write(bytes("x")))
    }

    @Test func aDrainedBacklogWakesAThreadWaitingForCapacity() {
        var state = pipeState()
        _ = state.enqueue(bytes("abc"))
        _ = state.writeFinished(bytes("abc"), .full(written: 0))
        _ = state.backlogWriterStep()
        state.waiterArrived()
        #expect(state.writeFinished(bytes("abc"), .complete) == .init(wakeWaiters: true))
    }

    @Test func theBacklogThreadWaitsWhileItHasNothingToDo() {
        var state = pipeState()
        #expect(state.backlogWriterStep() == .wait)
        state.cork()
        _ = state.enqueue(bytes("a"))
        #expect(state.backlogWriterStep() == .wait)
        _ = state.uncork()
        #expect(state.phase == .writingInline)
        #expect(state.backlogWriterStep() == .wait)
    }

    // MARK: - A terminal or file: every write on the backlog thread

    @Test func withoutInlineWritesEveryFrameGoesThroughTheBacklogThread() {
        var state = State(writesInline: false, highWaterMark: 100, corkLimit: 10)
        #expect(state.backlogWriterStep() == .wait)
        #expect(state.enqueue(bytes("a")) == .wakeBacklogWriter)
        #expect(state.backlogWriterStep() == .write(bytes("a")))
        #expect(state.writeFinished(bytes("a"), .complete) == .init(wakeWaiters: false))
        #expect(state.phase == .backlogged)
        state.cork()
        #expect(state.enqueue(bytes("b")) == .none)
        #expect(state.uncork() == .wakeBacklogWriter)
    }

    // MARK: - Back-pressure

    @Test func theReaderWaitsOnlyAboveTheHighWaterMark() {
        var state = pipeState(highWaterMark: 4, corkLimit: 100)
        state.cork()
        _ = state.enqueue(bytes("abcd"))
        #expect(!state.mustWaitForCapacity)
        _ = state.enqueue(bytes("e"))
        #expect(state.mustWaitForCapacity)
        // Bytes being written still count until the write returns.
        #expect(state.uncork() == .write(bytes("abcde")))
        #expect(state.mustWaitForCapacity)
        _ = state.writeFinished(bytes("abcde"), .full(written: 3))
        #expect(!state.mustWaitForCapacity)
        #expect(state.queuedBytes == 2)
    }

    // MARK: - A broken pipe

    @Test func aBrokenPipeDropsEverythingReportsOnceAndReleasesEveryone() {
        var state = pipeState(highWaterMark: 1)
        _ = state.enqueue(bytes("abc"))
        _ = state.enqueue(bytes("def"))
        #expect(state.mustWaitForCapacity)
        #expect(state.writeFinished(bytes("abc"), .broken) == .init(wakeWaiters: true, reportBrokenPipe: true))
        #expect(state.phase == .broken)
        #expect(state.queuedBytes == 0)
        #expect(state.isFinished)
        #expect(!state.mustWaitForCapacity)
        // Nothing is handed out again, so nobody can report it a second time.
        #expect(state.producerStep() == .none)
        #expect(state.enqueue(bytes("x")) == .none)
        #expect(state.queuedBytes == 0)
        #expect(state.backlogWriterStep() == .stop(wakeWaiters: false))
    }

    @Test func aBrokenPipeDuringABacklogWriteStopsTheBacklogThread() {
        var state = pipeState()
        _ = state.enqueue(bytes("abc"))
        _ = state.writeFinished(bytes("abc"), .full(written: 1))
        _ = state.backlogWriterStep()
        #expect(state.writeFinished(bytes("bc"), .broken) == .init(wakeWaiters: true, reportBrokenPipe: true))
        #expect(state.backlogWriterStep() == .stop(wakeWaiters: false))
    }

    @Test func closingABrokenWriterLeavesItBroken() {
        var state = pipeState()
        _ = state.enqueue(bytes("a"))
        _ = state.writeFinished(bytes("a"), .broken)
        state.close()
        #expect(state.phase == .broken)
        #expect(state.isFinished)
    }

    // MARK: - Closing

    @Test func closingLiftsTheCorkAndTheBacklogThreadWritesWhatIsLeft() {
        var state = pipeState(corkLimit: 100)
        state.cork()
        _ = state.enqueue(bytes("a"))
        _ = state.enqueue(bytes("b"))
        state.close()
        #expect(state.phase == .closing(writing: false))
        #expect(state.corkDepth == 0)
        #expect(!state.isFinished)
        #expect(state.backlogWriterStep() == .write(bytes("ab")))
        #expect(state.phase == .closing(writing: true))
        state.waiterArrived()  // flushAndClose
        #expect(state.writeFinished(bytes("ab"), .complete) == .init(wakeWaiters: true))
        #expect(state.backlogWriterStep() == .stop(wakeWaiters: true))
        #expect(state.phase == .closed)
        #expect(state.isFinished)
        #expect(state.queuedBytes == 0)
    }

    @Test func aClosingWriterDropsNewFramesAndIgnoresCorks() {
        var state = pipeState()
        state.close()
        #expect(state.enqueue(bytes("late")) == .none)
        #expect(state.queuedBytes == 0)
        state.cork()
        #expect(state.corkDepth == 0)
        #expect(state.uncork() == .none)
        #expect(state.backlogWriterStep() == .stop(wakeWaiters: false))
    }

    @Test func closingDuringAnInlineWriteWaitsForItThenTheBacklogThreadTakesOver() {
        var state = pipeState()
        _ = state.enqueue(bytes("abc"))
        _ = state.enqueue(bytes("d"))
        state.close()
        #expect(state.phase == .closing(writing: true))
        #expect(state.backlogWriterStep() == .wait)
        // The inline writer's pipe filled up: the rest still goes first.
        #expect(state.writeFinished(bytes("abc"), .full(written: 1)) == .init(wakeWaiters: true))
        #expect(state.phase == .closing(writing: false))
        #expect(state.producerStep() == .none)
        #expect(state.backlogWriterStep() == .write(bytes("bcd")))
    }

    @Test func closingDuringABacklogWriteLetsItFinishFirst() {
        var state = pipeState()
        _ = state.enqueue(bytes("abc"))
        _ = state.writeFinished(bytes("abc"), .full(written: 1))
        #expect(state.backlogWriterStep() == .write(bytes("bc")))
        state.close()
        #expect(state.phase == .closing(writing: true))
        #expect(state.writeFinished(bytes("bc"), .complete) == .init(wakeWaiters: true))
        #expect(state.backlogWriterStep() == .stop(wakeWaiters: false))
        #expect(state.phase == .closed)
    }

    @Test func closingTwiceOrAfterTheEndChangesNothing() {
        var state = pipeState()
        state.close()
        state.close()
        #expect(state.phase == .closing(writing: false))
        _ = state.backlogWriterStep()
        state.close()
        #expect(state.phase == .closed)
        #expect(state.backlogWriterStep() == .stop(wakeWaiters: false))
        #expect(!state.mustWaitForCapacity)
    }
}
