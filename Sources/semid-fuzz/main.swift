import CFuzzerDriver
import Foundation
import SemidFuzzing

// `semid-fuzz`: the readers of untrusted input as libFuzzer targets (see `FuzzTarget`).
//
// Built with `-sanitize=fuzzer -D SEMID_LIBFUZZER` (make fuzz), it is a libFuzzer binary: the
// target is chosen by SEMID_FUZZ_TARGET and every argument goes to libFuzzer:
//
//     SEMID_FUZZ_TARGET=npy .build-fuzz/release/semid-fuzz Fuzz/corpus/npy -max_total_time=60
//
// Built normally it replays files: `semid-fuzz replay TARGET FILE|DIRECTORY…` runs the target on
// each file and prints how many it ran (a crash is a bug: keep the file as a regression).

#if SEMID_LIBFUZZER
let name = ProcessInfo.processInfo.environment["SEMID_FUZZ_TARGET"] ?? ""
guard let target = FuzzTarget(rawValue: name) else {
    FileHandle.standardError.write(Data("semid-fuzz: set SEMID_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(name)\")\n".utf8))
    exit(2)
}
let selected = target
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    selected.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
})
#else
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3, arguments[0] == "replay", let target = FuzzTarget(rawValue: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: semid-fuzz replay TARGET FILE|DIRECTORY…  (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")); build with `make fuzz` to fuzz)\n".utf8))
    exit(2)
}
var files: [String] = []
for path in arguments.dropFirst(2) {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        files += ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
    } else {
        files.append(path)
    }
}
for file in files {
    guard let data = FileManager.default.contents(atPath: file) else {
        FileHandle.standardError.write(Data("semid-fuzz: cannot read \(file)\n".utf8))
        exit(1)
    }
    target.run(Array(data))
}
print("replayed \(files.count) inputs on \(target.rawValue)")
#endif
