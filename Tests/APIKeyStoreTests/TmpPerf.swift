import APIKeyStore
import InfrahubClient
import Testing

@Suite struct TmpPerf {
    @Test func hitRate() async throws {
        let fixture = try KeyStoreFixture()
        for i in 0..<20 { _ = try await fixture.outsider.generateKey(name: "k\(i)", description: "d") }
        _ = try await fixture.store.list()
        let n = 300_000
        let start = ContinuousClock.now
        var revisions: Int64 = 0
        for _ in 0..<n { revisions &+= try await fixture.store.list().snapshot.revision }
        let elapsed = start.duration(to: .now)
        print("PERF list: \(n) hits in \(elapsed) → \(Double(n) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)) /s \(revisions)")
    }
}
