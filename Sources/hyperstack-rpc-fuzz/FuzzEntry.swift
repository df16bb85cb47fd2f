/// libFuzzer's entry point. Built with `-sanitize=fuzzer` (see Tests/Fuzz/run.sh) libFuzzer
/// supplies `main` and calls this for every generated input; built plainly, `ReplayMain`
/// calls it for corpus files. A violated invariant traps, which libFuzzer records as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
package func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzCase(UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)).run()
    return 0
}
