import DaemonWire
import Testing
@testable import HyperstackDaemon

/// The fingerprint that names a daemon's socket: stable for one build, new for another version.
@Suite struct BuildFingerprintTests {
    @Test func theFingerprintNamesTheBuild() {
        let fingerprint = BuildFingerprint.current(version: "1.2.3")
        #expect(fingerprint.count == 16)
        #expect(fingerprint == BuildFingerprint.current(version: "1.2.3"))
        #expect(fingerprint != BuildFingerprint.current(version: "1.2.4"))
    }

    @Test func thisBuildHasABuildID() {
        // The linker writes a GNU build-id note; without it the fingerprint would fall back
        // to the executable's size and time, which an upgrade in place may not change.
        #expect(BuildFingerprint.buildID()?.isEmpty == false)
    }
}
