#if FUZZING
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer's driver, linked in by `-sanitize=fuzzer`. Declared here because SwiftPM
/// gives every executable target a Swift `main`, which replaces libFuzzer's own; this
/// `main` hands control to the same driver with the same command line.
@_extern(c, "LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The fuzzing build's entry point (compiled with `-D FUZZING`, see Tests/Fuzz/run.sh).
@main
struct FuzzerMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        // A closure, not the @_cdecl function itself, whose C symbol would be emitted twice.
        exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) })
    }
}
#endif
