#if !FUZZING
import Foundation

/// Without libFuzzer (a plain `swift build`), the target replays inputs instead: each
/// argument is a file or a directory of files, run through the same checks as in
/// fuzzing. A violated invariant traps, so a non-zero exit means a failing input.
@main
struct ReplayMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: hyperstack-rpc-fuzz FILE_OR_DIRECTORY...\n".utf8))
            exit(2)
        }
        var replayed = 0
        for path in arguments {
            for file in inputFiles(path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    exit(2)
                }
                data.withUnsafeBytes { buffer in
                    _ = fuzzerTestOneInput(buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count)
                }
                replayed += 1
            }
        }
        FileHandle.standardError.write(Data("replayed \(replayed) input(s), all invariants held\n".utf8))
    }

    /// The path itself, or the regular files directly inside it, sorted.
    private static func inputFiles(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }.filter {
            var nested: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &nested) && !nested.boolValue
        }
    }
}
#endif
