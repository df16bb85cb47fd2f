import Foundation
import JSONRPCStdio
import Locking
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct InputPumpTests {
    @Test func aBigReadIsHandedOverInSlicesWithACapacityCheckBeforeEach() throws {
        let pipe = try Pipe()
        defer { _ = Glibc.close(pipe.readEnd) }
        let input = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let written = input.withUnsafeBytes { Glibc.write(pipe.writeEnd, $0.baseAddress, $0.count) }
        #expect(written == input.count)
        _ = Glibc.close(pipe.writeEnd)

        // Each event is a capacity check (-1) or a slice handed over (its size).
        let events = Lock<[Int]>([])
        let received = Lock<[UInt8]>([])
        let ended = DispatchSemaphore(value: 0)
        InputPump(descriptor: pipe.readEnd, chunkSize: 64 << 10, sliceSize: 4096).start(
            waitForCapacity: { events.withLock { $0.append(-1) } },
            consume: { slice in
                events.withLock { $0.append(slice.count) }
                received.withLock { $0.append(contentsOf: slice) }
            },
            onEnd: { ended.signal() })
        #expect(ended.wait(timeout: .now() + 20) == .success)

        #expect(received.withLock { $0 } == input)
        let log = events.withLock { $0 }
        let slices = log.filter { $0 >= 0 }
        #expect(slices.allSatisfy { $0 <= 4096 } && slices.reduce(0, +) == input.count)
        // Every slice comes right after a capacity check.
        for (index, event) in log.enumerated() where event >= 0 {
            #expect(index > 0 && log[index - 1] == -1, "slice \(index) was not preceded by a capacity check")
        }
    }
}
