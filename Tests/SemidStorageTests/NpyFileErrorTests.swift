import SemidTestSupport
import Testing
@testable import SemidStorage

@Suite("NpyFile rejects bad input with an InputError naming the file and the problem")
struct NpyFileErrorTests {
    static let floats6 = NpyBytes.bytes(float32: [1, 2, 3, 4, 5, 6])

    static func npy(_ descr: String = "<f4", fortran: Bool = false, shape: [Int] = [2, 3], version: UInt8 = 1, payload: [UInt8] = floats6) -> [UInt8] {
        NpyBytes.file(version: version, descr: descr, fortranOrder: fortran, shape: shape, payload: payload)
    }

    static func header(_ dictionary: String, payload: [UInt8] = floats6) -> [UInt8] {
        NpyBytes.file(dictionary: dictionary, payload: payload)
    }

    static let matrixCases: [InputErrorCase] = [
        InputErrorCase("empty file", file: "empty.npy", bytes: [], expect: ["file is empty"]),
        InputErrorCase("bad magic", file: "text.npy", text: "hello, this is not numpy", expect: ["not a .npy file", "magic", "68 65 6c 6c"]),
        InputErrorCase("zip archive", file: "archive.npy", bytes: [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0], expect: ["zip archive", ".npz"]),
        InputErrorCase("magic only", file: "short.npy", bytes: [0x93] + Array("NUMPY".utf8), expect: ["ends after the magic"]),
        InputErrorCase("unknown version", file: "v4.npy", bytes: [0x93] + Array("NUMPY".utf8) + [4, 0, 10, 0], expect: ["unsupported .npy format version 4.0", "1.0, 2.0 and 3.0"]),
        InputErrorCase("header longer than the file", file: "cut.npy", bytes: [0x93] + Array("NUMPY".utf8) + [1, 0, 0x76, 0] + Array("{'descr'".utf8), expect: ["header claims to be 118 bytes", "truncated"]),
        InputErrorCase("unterminated dict", file: "dict.npy", bytes: header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)"), expect: ["header: cannot parse the header dictionary", "expected '}'"]),
        InputErrorCase("header is not a dict", file: "list.npy", bytes: header("['<f4', False, (2, 3)]"), expect: ["cannot parse the header dictionary", "expected a dict"]),
        InputErrorCase("bare word in header", file: "word.npy", bytes: header("{'descr': float32, 'fortran_order': False, 'shape': (2, 3)}"), expect: ["cannot parse", "unexpected character 'f'"]),
        InputErrorCase("decimal in shape", file: "decimal.npy", bytes: header("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3)}"), expect: ["cannot parse", "decimal number"]),
        InputErrorCase("missing shape key", file: "noshape.npy", bytes: header("{'descr': '<f4', 'fortran_order': False}"), expect: ["no 'shape' key"]),
        InputErrorCase("missing descr key", file: "nodescr.npy", bytes: header("{'fortran_order': False, 'shape': (2, 3)}"), expect: ["no 'descr' key"]),
        InputErrorCase("structured dtype", file: "struct.npy", bytes: header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3)}"), expect: ["'descr' is a tuple or list", "structured"]),
        InputErrorCase("fortran_order not a bool", file: "fo.npy", bytes: header("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}"), expect: ["'fortran_order' is the integer 0", "True or False"]),
        InputErrorCase("negative dimension", file: "neg.npy", bytes: header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3)}"), expect: ["'shape' holds the integer -2", "non-negative"]),
        InputErrorCase("fortran order", file: "fortran.npy", bytes: npy(fortran: true), expect: ["fortran_order is True", "C-order"]),
        InputErrorCase("big-endian float32", file: "big.npy", bytes: npy(">f4"), expect: ["'>f4'", "big-endian", "accepted dtypes: '<f4' (float32), '<f2' (float16), '<f8' (float64)"]),
        InputErrorCase("big-endian float64", file: "big8.npy", bytes: npy(">f8", payload: floats6 + floats6), expect: ["'>f8'", "big-endian"]),
        InputErrorCase("object dtype", file: "object.npy", bytes: npy("|O"), expect: ["dtype '|O' (Python object)", "accepted dtypes: '<f4'"]),
        InputErrorCase("int32 dtype", file: "int.npy", bytes: npy("<i4"), expect: ["dtype '<i4' (32-bit signed integer) is not supported", "accepted dtypes: '<f4'"]),
        InputErrorCase("uint8 dtype", file: "u1.npy", bytes: npy("|u1", payload: [1, 2, 3, 4, 5, 6]), expect: ["'|u1' (8-bit unsigned integer)"]),
        InputErrorCase("bool dtype", file: "bool.npy", bytes: npy("|b1", payload: [1, 0, 1, 0, 1, 0]), expect: ["'|b1' (boolean)"]),
        InputErrorCase("complex dtype", file: "complex.npy", bytes: npy("<c8", payload: floats6 + floats6), expect: ["'<c8' (64-bit complex)"]),
        InputErrorCase("long double dtype", file: "f16.npy", bytes: npy("<f16"), expect: ["'<f16' (long double float)"]),
        InputErrorCase("unicode dtype", file: "str.npy", bytes: npy("<U1"), expect: ["'<U1' (unicode string)"]),
        InputErrorCase("1-D array", file: "vector.npy", bytes: npy(shape: [6]), expect: ["expected a 2-D array [rows, cols], found shape [6] (1-D)"]),
        InputErrorCase("3-D array", file: "cube.npy", bytes: npy(shape: [1, 2, 3]), expect: ["found shape [1, 2, 3] (3-D)"]),
        InputErrorCase("scalar", file: "scalar.npy", bytes: header("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", payload: NpyBytes.bytes(float32: [1])), expect: ["found shape [] (0-D)"]),
        InputErrorCase("zero rows", file: "norows.npy", bytes: npy(shape: [0, 384], payload: []), expect: ["shape [0, 384]", "at least one row"]),
        InputErrorCase("zero columns", file: "nocols.npy", bytes: npy(shape: [5, 0], payload: []), expect: ["shape [5, 0]", "one column"]),
        InputErrorCase("data shorter than the shape", file: "embeddings.npy", bytes: npy(shape: [100, 384], payload: [UInt8](repeating: 0, count: 12_000)),
                       expect: ["truncated", "header says [100, 384] = 153600 bytes of data, file has 12000"]),
        InputErrorCase("f8 data shorter than the shape", file: "short8.npy", bytes: npy("<f8", payload: floats6), expect: ["header says [2, 3] = 48 bytes of data, file has 24"]),
        InputErrorCase("trailing bytes", file: "long.npy", bytes: npy(payload: floats6 + [0, 0, 0, 0]), expect: ["4 extra bytes after the array data", "header says [2, 3] = 24 bytes of data, file has 28"]),
        InputErrorCase("shape too large to address", file: "huge.npy", bytes: npy(shape: [1 << 40, 1 << 40]), expect: ["too large"]),
        InputErrorCase("NaN in float32", file: "embeddings.npy", bytes: npy(payload: NpyBytes.bytes(float32: [0, 0, 0, 0, 0, .nan])),
                       expect: ["embeddings.npy: row 1: value at column 2 is NaN; embeddings must be finite"]),
        InputErrorCase("infinity in float32", file: "inf.npy", bytes: npy(shape: [3, 2], payload: NpyBytes.bytes(float32: [0, 0, 0, .infinity, 0, 0])),
                       expect: ["row 1: value at column 1 is +infinity"]),
        InputErrorCase("NaN in float16", file: "half.npy", bytes: npy("<f2", payload: NpyBytes.bytes(float16Bits: [0x3C00, 0x7E00, 0, 0, 0, 0])),
                       expect: ["row 0: value at column 1 is NaN"]),
        InputErrorCase("infinity in float16", file: "halfinf.npy", bytes: npy("<f2", payload: NpyBytes.bytes(float16Bits: [0, 0, 0, 0, 0xFC00, 0])),
                       expect: ["row 1: value at column 1 is -infinity"]),
        InputErrorCase("infinity in float64", file: "double.npy", bytes: npy("<f8", payload: NpyBytes.bytes(float64: [0, 0, -.infinity, 0, 0, 0])),
                       expect: ["row 0: value at column 2 is -infinity"]),
        InputErrorCase("float64 too large for float32", file: "wide.npy", bytes: npy("<f8", payload: NpyBytes.bytes(float64: [0, 0, 0, 0, 1e300, 0])),
                       expect: ["row 1: value at column 1 is 1e+300, outside the float32 range"]),
    ]

    @Test("readMatrix rejects", arguments: matrixCases)
    func readMatrixRejects(_ errorCase: InputErrorCase) throws {
        try errorCase.check { _ = try NpyFile.readMatrix(at: $0) }
    }

    static let integerCases: [InputErrorCase] = [
        InputErrorCase("float dtype", file: "codes.npy", bytes: npy("<f4"), expect: ["dtype '<f4' (32-bit float) is not supported for an integer matrix", "accepted dtypes: '<i4' (int32), '<i8' (int64)"]),
        InputErrorCase("unsigned dtype", file: "codes.npy", bytes: npy("<u4"), expect: ["'<u4' (32-bit unsigned integer)"]),
        InputErrorCase("big-endian int32", file: "codes.npy", bytes: npy(">i4"), expect: ["'>i4'", "big-endian"]),
        InputErrorCase("int64 outside Int32", file: "codes.npy", bytes: npy("<i8", shape: [1, 2], payload: NpyBytes.bytes(int64: [1, 5_000_000_000])),
                       expect: ["row 0: value at column 1 is 5000000000, outside the Int32 range"]),
        InputErrorCase("1-D array", file: "codes.npy", bytes: npy("<i4", shape: [6]), expect: ["found shape [6] (1-D)"]),
        InputErrorCase("truncated", file: "codes.npy", bytes: npy("<i4", shape: [4, 3]), expect: ["header says [4, 3] = 48 bytes of data, file has 24"]),
        InputErrorCase("empty file", file: "codes.npy", bytes: [], expect: ["file is empty"]),
    ]

    @Test("readInt32Matrix rejects", arguments: integerCases)
    func readInt32MatrixRejects(_ errorCase: InputErrorCase) throws {
        try errorCase.check { _ = try NpyFile.readInt32Matrix(at: $0) }
    }

    @Test("a missing file or a directory is reported, not crashed on")
    func missingFileAndDirectory() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.file("absent.npy")
        let error = #expect(throws: InputError.self) { try NpyFile.readMatrix(at: missing) }
        #expect(error?.description == "\(missing): file not found")
        let folder = #expect(throws: InputError.self) { try NpyFile.readMatrix(at: directory.path) }
        #expect(folder?.description.contains("is a directory") == true)
    }
}
