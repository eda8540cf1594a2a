import Foundation
import Testing
@testable import SemidStorage

/// A fresh directory under the system temporary directory, removed when the value goes away.
struct TemporaryDirectory: ~Copyable {
    /// Absolute path of the directory, without a trailing slash.
    let path: String

    init() throws {
        path = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("semid-storage-tests-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` inside the directory and returns its path.
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Writes UTF-8 `text` to `name` inside the directory and returns its path.
    func write(_ text: String, to name: String) throws -> String {
        try write(Array(text.utf8), to: name)
    }

    /// Names of the entries in the directory.
    func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}

/// A bad-input case for a reader: a fixture file and the phrases its error must contain.
struct InputErrorCase: Sendable, CustomTestStringConvertible {
    /// What the case checks, shown in test output.
    var name: String
    /// The fixture's file name; the format is chosen from it.
    var fileName: String
    /// The fixture's bytes.
    var contents: [UInt8]
    /// Phrases that must all appear in the error's description (the file name is checked too).
    var expected: [String]

    init(_ name: String, file fileName: String, bytes contents: [UInt8], expect expected: [String]) {
        self.name = name
        self.fileName = fileName
        self.contents = contents
        self.expected = expected
    }

    init(_ name: String, file fileName: String, text: String, expect expected: [String]) {
        self.init(name, file: fileName, bytes: Array(text.utf8), expect: expected)
    }

    var testDescription: String { name }

    /// Writes the fixture to a temporary directory, runs `read` on its path and checks the error.
    func check(sourceLocation: SourceLocation = #_sourceLocation, _ read: (String) throws -> Void) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(contents, to: fileName)
        let error = #expect(throws: InputError.self, sourceLocation: sourceLocation) { try read(path) }
        guard let error else { return }
        #expect(error.source == path, sourceLocation: sourceLocation)
        let description = error.description
        #expect(description.contains(fileName), "\(description)", sourceLocation: sourceLocation)
        for phrase in expected {
            #expect(description.contains(phrase), "missing \"\(phrase)\" in: \(description)", sourceLocation: sourceLocation)
        }
    }
}

/// Builds `.npy` files byte by byte, including malformed ones.
enum NpyFixture {
    /// A complete file: preamble for `version`, the header dict `dictionary` padded as NumPy
    /// pads it (data at a multiple of 64 bytes, newline last), then `payload`.
    static func file(version: UInt8 = 1, dictionary: String, payload: [UInt8]) -> [UInt8] {
        let dictionaryBytes = Array(dictionary.utf8)
        let lengthFieldSize = version == 1 ? 2 : 4
        let unpadded = 8 + lengthFieldSize + dictionaryBytes.count + 1
        let total = (unpadded + 63) / 64 * 64
        let headerLength = total - 8 - lengthFieldSize
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        for i in 0..<lengthFieldSize { bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * i))) }
        bytes += dictionaryBytes
        bytes += [UInt8](repeating: 0x20, count: total - bytes.count - 1)
        bytes.append(0x0A)
        return bytes + payload
    }

    /// A complete file with a well-formed header for `descr`, `shape` and `fortranOrder`.
    static func file(version: UInt8 = 1, descr: String, fortranOrder: Bool = false, shape: [Int], payload: [UInt8]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let dictionary = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        return file(version: version, dictionary: dictionary, payload: payload)
    }

    static func bytes(float32 values: [Float]) -> [UInt8] {
        values.flatMap { littleEndian($0.bitPattern) }
    }

    static func bytes(float64 values: [Double]) -> [UInt8] {
        values.flatMap { littleEndian($0.bitPattern) }
    }

    static func bytes(float16Bits values: [UInt16]) -> [UInt8] {
        values.flatMap { littleEndian($0) }
    }

    static func bytes(int32 values: [Int32]) -> [UInt8] {
        values.flatMap { littleEndian(UInt32(bitPattern: $0)) }
    }

    static func bytes(int64 values: [Int64]) -> [UInt8] {
        values.flatMap { littleEndian(UInt64(bitPattern: $0)) }
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}

/// `python3` with NumPy, when this machine has it.
enum PythonNumPy {
    /// True when `python3 -c "import numpy"` succeeds.
    static let isAvailable: Bool = (try? run("import numpy")) != nil

    /// Runs `script` with `python3 -c`, passing `arguments` as `sys.argv[1...]`; returns stdout,
    /// throws when the exit status is not 0.
    @discardableResult
    static func run(_ script: String, arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(message: String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: outputData, as: UTF8.self)
    }

    struct PythonFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { "python3 failed: \(message)" }
    }
}
