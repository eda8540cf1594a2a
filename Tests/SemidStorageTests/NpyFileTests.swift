import Foundation
import SemidMath
import SemidTestSupport
import Testing
@testable import SemidStorage

@Suite("NpyFile reading and writing")
struct NpyFileTests {
    static let sample = Matrix(rows: 2, cols: 3, values: [1, -2.5, 0, 3.25, .leastNonzeroMagnitude, -.greatestFiniteMagnitude])

    @Test("write then read returns the same float32 matrix")
    func floatRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("m.npy")
        try NpyFile.write(Self.sample, to: path)
        #expect(try NpyFile.readMatrix(at: path) == Self.sample)
        #expect(try directory.entries() == ["m.npy"], "no temporary file is left behind")
    }

    @Test("a larger matrix round-trips and its data starts at a multiple of 64 bytes")
    func largerRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("big.npy")
        var generator = SeededGenerator(seed: 7)
        let values = (0..<(1000 * 37)).map { _ in Float.random(in: -1...1, using: &generator) }
        let matrix = Matrix(rows: 1000, cols: 37, values: values)
        try NpyFile.write(matrix, to: path)
        #expect(try NpyFile.readMatrix(at: path) == matrix)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size.map { ($0 - 1000 * 37 * 4) % 64 } == 0)
    }

    @Test("the float32 writer emits NumPy's exact version 1.0 header")
    func floatHeaderBytes() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("h.npy")
        try NpyFile.write(Self.sample, to: path)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let dictionary = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        var expected: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(dictionary.utf8)
        expected += [UInt8](repeating: 0x20, count: 128 - expected.count - 1) + [0x0A]
        #expect(bytes.count == 128 + 24)
        #expect(Array(bytes.prefix(128)) == expected)
        #expect(Array(bytes.suffix(24)) == NpyBytes.bytes(float32: Self.sample.values))
    }

    @Test("the int32 writer emits '<i4' data that reads back")
    func int32RoundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("codes.npy")
        let values: [Int32] = [0, 1, 255, -1, .max, .min]
        try NpyFile.write(int32: values, rows: 3, cols: 2, to: path)
        let read = try NpyFile.readInt32Matrix(at: path)
        #expect(read.rows == 3 && read.cols == 2 && read.values == values)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(String(decoding: bytes[10..<70], as: UTF8.self).hasPrefix("{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }"))
        #expect(Array(bytes.suffix(24)) == NpyBytes.bytes(int32: values))
    }

    @Test("an empty int32 table [0, 4] round-trips")
    func emptyInt32RoundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("empty.npy")
        try NpyFile.write(int32: [], rows: 0, cols: 4, to: path)
        let read = try NpyFile.readInt32Matrix(at: path)
        #expect(read.rows == 0 && read.cols == 4 && read.values.isEmpty)
    }

    @Test("'<i8' data is narrowed to Int32")
    func int64Read() throws {
        let directory = try TemporaryDirectory()
        let values: [Int64] = [5, -7, Int64(Int32.max), Int64(Int32.min)]
        let path = try directory.write(
            NpyBytes.file(descr: "<i8", shape: [2, 2], payload: NpyBytes.bytes(int64: values)), to: "i8.npy")
        let read = try NpyFile.readInt32Matrix(at: path)
        #expect(read.rows == 2 && read.cols == 2 && read.values == [5, -7, .max, .min])
    }

    @Test("writing replaces an existing file")
    func overwrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("m.npy")
        try NpyFile.write(Matrix(rows: 1, cols: 1, values: [9]), to: path)
        try NpyFile.write(Self.sample, to: path)
        #expect(try NpyFile.readMatrix(at: path) == Self.sample)
        #expect(try directory.entries() == ["m.npy"])
    }

    @Test("writing into a missing directory throws and leaves nothing")
    func writeIntoMissingDirectory() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("absent/m.npy")
        let error = #expect(throws: InputError.self) { try NpyFile.write(Self.sample, to: path) }
        #expect(error?.description.contains("absent/m.npy") == true)
        #expect(try directory.entries().isEmpty)
    }

    /// Float fixtures in every accepted dtype and header version.
    struct FloatFixture: Sendable, CustomTestStringConvertible {
        var name: String
        var version: UInt8
        var descr: String
        var payload: [UInt8]
        var expected: [Float]
        var testDescription: String { name }
    }

    static let floatFixtures: [FloatFixture] = {
        let values: [Float] = [1, -2, 0.5, 65504, 0x1p-24, -0.0]
        let halfBits: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000]
        let doubles = values.map(Double.init)
        return [
            FloatFixture(name: "<f4 v1.0", version: 1, descr: "<f4", payload: NpyBytes.bytes(float32: values), expected: values),
            FloatFixture(name: "<f4 v2.0", version: 2, descr: "<f4", payload: NpyBytes.bytes(float32: values), expected: values),
            FloatFixture(name: "<f4 v3.0", version: 3, descr: "<f4", payload: NpyBytes.bytes(float32: values), expected: values),
            FloatFixture(name: "|f4 v1.0", version: 1, descr: "|f4", payload: NpyBytes.bytes(float32: values), expected: values),
            FloatFixture(name: "=f4 v1.0", version: 1, descr: "=f4", payload: NpyBytes.bytes(float32: values), expected: values),
            FloatFixture(name: "<f2 v1.0", version: 1, descr: "<f2", payload: NpyBytes.bytes(float16Bits: halfBits), expected: values),
            FloatFixture(name: "<f2 v3.0", version: 3, descr: "<f2", payload: NpyBytes.bytes(float16Bits: halfBits), expected: values),
            FloatFixture(name: "<f8 v1.0", version: 1, descr: "<f8", payload: NpyBytes.bytes(float64: doubles), expected: values),
            FloatFixture(name: "<f8 v2.0", version: 2, descr: "<f8", payload: NpyBytes.bytes(float64: doubles), expected: values),
        ]
    }()

    @Test("reads every accepted float dtype and header version", arguments: floatFixtures)
    func readsFloatFixture(_ fixture: FloatFixture) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(
            NpyBytes.file(version: fixture.version, descr: fixture.descr, shape: [2, 3], payload: fixture.payload),
            to: "fixture.npy")
        let matrix = try NpyFile.readMatrix(at: path)
        #expect(matrix.rows == 2 && matrix.cols == 3)
        #expect(matrix.values.map(\.bitPattern) == fixture.expected.map(\.bitPattern))
    }

    @Test("a v3.0 header with UTF-8 text and unusual but valid syntax is read")
    func unusualHeaderSyntax() throws {
        let directory = try TemporaryDirectory()
        // Double quotes, key order changed, Python 2 long suffixes, an extra key with a non-ASCII string.
        let dictionary = #"{"shape": (2L, 1L), "fortran_order": False, "descr": "<f4", "note": "größe"}"#
        let path = try directory.write(
            NpyBytes.file(version: 3, dictionary: dictionary, payload: NpyBytes.bytes(float32: [4, 5])), to: "v3.npy")
        #expect(try NpyFile.readMatrix(at: path) == Matrix(rows: 2, cols: 1, values: [4, 5]))
    }

    @Test("f2 conversion matches Float16 for every bit pattern")
    func halfConversionIsExact() {
        #if !(os(macOS) && arch(x86_64))
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let converted = NpyFile.floatFromHalfBits(bits)
            if expected.isNaN {
                #expect(converted.isNaN)
            } else if converted.bitPattern != expected.bitPattern {
                Issue.record("half \(String(bits, radix: 16)): expected \(expected), got \(converted)")
                return
            }
        }
        #endif
    }

    @Test("the non-finite scan finds the first NaN or infinity in any block")
    func nonFiniteScan() {
        var values = [Float](repeating: 1, count: 10_000)
        #expect(values.withUnsafeBufferPointer(NpyFile.firstNonFiniteIndex) == nil)
        values[9_999] = .infinity
        values[5_000] = -.nan
        #expect(values.withUnsafeBufferPointer(NpyFile.firstNonFiniteIndex) == 5_000)
        values[0] = -.infinity
        #expect(values.withUnsafeBufferPointer(NpyFile.firstNonFiniteIndex) == 0)
    }

    @Test("files written here load in NumPy with the right dtype, shape and values",
          .enabled(if: PythonNumPy.isAvailable, "python3 with numpy is not installed"))
    func numpyLoadsWrittenFiles() throws {
        let directory = try TemporaryDirectory()
        let floatPath = directory.file("m.npy")
        let intPath = directory.file("c.npy")
        try NpyFile.write(Self.sample, to: floatPath)
        try NpyFile.write(int32: [3, -1, 7, 2_000_000_000], rows: 2, cols: 2, to: intPath)
        let output = try PythonNumPy.run("""
            import sys, numpy as np
            m = np.load(sys.argv[1]); c = np.load(sys.argv[2])
            assert m.dtype == np.dtype('<f4') and m.shape == (2, 3) and m.flags['C_CONTIGUOUS'], (m.dtype, m.shape)
            expected = np.array([1, -2.5, 0, 3.25, np.finfo(np.float32).smallest_subnormal, -np.finfo(np.float32).max], dtype='<f4').reshape(2, 3)
            assert np.array_equal(m, expected), m
            assert c.dtype == np.dtype('<i4') and c.shape == (2, 2), (c.dtype, c.shape)
            assert c.tolist() == [[3, -1], [7, 2000000000]], c
            print("ok")
            """, arguments: [floatPath, intPath])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test("files NumPy writes are read, or rejected with the right reason",
          .enabled(if: PythonNumPy.isAvailable, "python3 with numpy is not installed"))
    func readsNumpyWrittenFiles() throws {
        let directory = try TemporaryDirectory()
        try PythonNumPy.run("""
            import sys, numpy as np
            from numpy.lib import format as fmt
            d = sys.argv[1]
            a = (np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5) / 4
            for dt in ['<f2', '<f4', '<f8']:
                np.save(f'{d}/a{dt[1:]}.npy', a.astype(dt))
            for version in [(2, 0), (3, 0)]:
                with open(f'{d}/v{version[0]}.npy', 'wb') as f:
                    fmt.write_array(f, a.astype('<f4'), version=version)
            np.save(f'{d}/fortran.npy', np.asfortranarray(a.astype('<f4')))
            np.save(f'{d}/big.npy', a.astype('>f4'))
            np.save(f'{d}/i8.npy', np.arange(6, dtype='<i8').reshape(2, 3))
            np.save(f'{d}/i4.npy', np.arange(6, dtype='<i4').reshape(3, 2) - 3)
            np.save(f'{d}/vector.npy', np.zeros(5, dtype='<f4'))
            np.save(f'{d}/objects.npy', np.array([[1, 'x']], dtype=object), allow_pickle=True)
            """, arguments: [directory.path])
        let expected = Matrix(rows: 3, cols: 4, values: (0..<12).map { (Float($0) - 5.5) / 4 })
        for name in ["af2", "af4", "af8", "v2", "v3"] {
            #expect(try NpyFile.readMatrix(at: directory.file(name + ".npy")) == expected, "\(name)")
        }
        let i8 = try NpyFile.readInt32Matrix(at: directory.file("i8.npy"))
        #expect(i8.rows == 2 && i8.cols == 3 && i8.values == [0, 1, 2, 3, 4, 5])
        let i4 = try NpyFile.readInt32Matrix(at: directory.file("i4.npy"))
        #expect(i4.rows == 3 && i4.cols == 2 && i4.values == [-3, -2, -1, 0, 1, 2])
        let rejections = [
            ("fortran.npy", "fortran_order is True"),
            ("big.npy", "'>f4'"),
            ("vector.npy", "found shape [5] (1-D)"),
            ("objects.npy", "Python object"),
        ]
        for (name, phrase) in rejections {
            let error = #expect(throws: InputError.self) { try NpyFile.readMatrix(at: directory.file(name)) }
            #expect(error?.description.contains(phrase) == true, "\(name): \(String(describing: error))")
        }
    }
}
