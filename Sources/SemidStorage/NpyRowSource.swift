import Foundation
import SemidMath

/// The rows of one `.npy` float matrix, or of several read one after the other as a single
/// `[rows, columns]` matrix, read a range or a list of rows at a time instead of whole.
///
/// Parts are checked when the source is opened: every one is a C-order 2-D little-endian `<f4`,
/// `<f2` or `<f8` array with at least one row, all have the same dtype and column count, and each
/// file holds exactly the bytes its header declares. Reads use `pread` into the caller's buffer (no
/// memory map), so what stays resident is the buffers, not the file: the page cache holds the file
/// but does not count towards the process's memory. Half and double values are converted to
/// `Float` exactly as ``NpyFile/readMatrix(at:)`` converts them, and every value read is checked to
/// be finite (the error names the part and the row in it).
///
/// Not thread-safe: one reader at a time (reads themselves are positioned, so concurrent use of
/// different sources is fine).
public final class NpyRowSource {
    /// One file of the source.
    public struct Part: Sendable, Equatable {
        /// The path as given (used in error messages).
        public let path: String
        /// The row of the whole source where this part starts.
        public let firstRow: Int
        /// Rows in this part.
        public let rows: Int
        /// Size of the file in bytes.
        public let bytes: Int
        /// Byte offset of the data (after the header).
        let dataOffset: Int
    }

    /// A part's content fingerprint, computed while ``forEachChunk(rows:progress:_:)`` read it.
    public struct Fingerprint: Sendable, Equatable {
        /// The part's path as given.
        public let path: String
        /// Bytes hashed (the whole file).
        public let bytes: Int
        /// Rows in the part.
        public let rows: Int
        /// Columns of the matrix.
        public let columns: Int
        /// XXH64 of the whole file, 16 hex digits (as `xxhsum -H1` prints it).
        public let xxh64: String
    }

    /// The parts, in order.
    public let parts: [Part]
    /// Rows of all parts together.
    public let rows: Int
    /// Columns (the embedding dimension).
    public let columns: Int
    /// Bytes per stored value: 2 (`<f2`), 4 (`<f4`) or 8 (`<f8`).
    public let itemSize: Int
    /// The dtype as written in the headers, e.g. `'<f2'`.
    public let dtype: String
    /// One open file per part.
    private let files: [OpenFile]
    /// The running XXH64 of every part during ``forEachChunk(rows:progress:_:)`` (`nil` otherwise).
    private var hashes: [XXH64]?

    /// An open part (a class so the non-copyable ``InputFile`` can sit in an array).
    private final class OpenFile {
        let file: InputFile
        init(_ file: consuming InputFile) { self.file = file }
    }

    /// Opens `path`: a `.npy` file, a directory whose `*.npy` files (in name order, hidden files
    /// skipped) are the parts, or a comma-separated list of `.npy` files when no file of that name exists.
    ///
    /// - Throws: ``InputError`` naming the path or part for a missing path, an empty directory, and
    ///   every problem ``init(paths:)`` reports.
    public convenience init(path: String) throws {
        if FileSystem.isDirectory(path) {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                throw InputError(path, "cannot list the directory: \(error.localizedDescription)")
            }
            let parts = names.filter { $0.hasSuffix(".npy") && !$0.hasPrefix(".") }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            guard !parts.isEmpty else {
                throw InputError(path, "the directory holds no .npy files; expected the embeddings as one or more .npy parts")
            }
            try self.init(paths: parts.map { (path as NSString).appendingPathComponent($0) })
        } else if !FileSystem.exists(path) && path.contains(",") {
            try self.init(paths: path.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        } else {
            try self.init(paths: [path])
        }
    }

    /// Opens the parts `paths`, in order, as one matrix (row `firstRow` of a part is its row 0).
    ///
    /// - Throws: ``InputError`` naming the part for every header problem ``NpyFile/readMatrix(at:)``
    ///   reports (bad magic, dtype, order, rank, truncated or extra data), zero rows or columns, a
    ///   dtype or column count different from the first part's, and a total row count that
    ///   overflows; and naming the list for an empty one.
    public init(paths: [String]) throws {
        guard let first = paths.first else { throw InputError("--embeddings", "no .npy file given") }
        var parts: [Part] = []
        var files: [OpenFile] = []
        var total = 0
        var columns = 0, itemSize = 0, dtype = ""
        for path in paths {
            guard !path.isEmpty || paths.count == 1 else {
                throw InputError(paths.joined(separator: ","), "an empty path in the list of .npy parts")
            }
            let file = try InputFile(path: path)
            let header = try NpyHeader.read(from: file)
            let type = header.dataType
            guard type.kind == "f", let size = type.itemSize, [2, 4, 8].contains(size) else {
                throw InputError(path, "dtype \(type.summary) is not supported for a float matrix; accepted dtypes: \(NpyFile.acceptedFloatTypes)")
            }
            guard type.isLittleEndian else {
                throw InputError(path, "dtype \(type.summary) is not supported, only little-endian data can be read; accepted dtypes: \(NpyFile.acceptedFloatTypes) (convert with array.astype('<f4'))")
            }
            let (r, c) = try NpyFile.matrixShape(of: header, path: path)
            guard r > 0, c > 0 else {
                throw InputError(path, "the array has shape \(header.shapeDescription); expected at least one row and one column")
            }
            try NpyFile.checkDataLength(of: header, itemSize: size, fileSize: file.size, path: path)
            if parts.isEmpty {
                columns = c; itemSize = size; dtype = type.descr
            } else {
                guard c == columns else {
                    throw InputError(path, "has \(c) columns, but the first part \(first) has \(columns); every part must have the same embedding dimension")
                }
                guard size == itemSize else {
                    throw InputError(path, "has dtype \(type.summary), but the first part \(first) has '\(dtype)'; every part must have the same dtype")
                }
            }
            let (sum, overflow) = total.addingReportingOverflow(r)
            guard !overflow else { throw InputError(path, "the parts hold more rows than can be addressed") }
            parts.append(Part(path: path, firstRow: total, rows: r, bytes: file.size, dataOffset: header.dataOffset))
            files.append(OpenFile(file))
            total = sum
        }
        self.parts = parts
        self.files = files
        self.rows = total
        self.columns = columns
        self.itemSize = itemSize
        self.dtype = dtype
    }

    /// The file names of the parts, comma-separated (for messages).
    public var description: String { parts.map(\.path).joined(separator: ",") }

    // MARK: Reading

    /// Rows `range` as a `[range.count, columns]` matrix.
    ///
    /// - Throws: ``InputError`` naming the part and row for a non-finite value or a read failure.
    /// - Complexity: `O(range.count · columns)`; one `pread` per part touched.
    public func rows(_ range: Range<Int>) throws -> Matrix {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw InputError(description, "rows \(range) are outside the \(rows) rows of the embeddings")
        }
        var out = Matrix(rows: range.count, cols: columns)
        try out.values.withUnsafeMutableBufferPointer { buffer in
            try read(range, into: buffer)
        }
        return out
    }

    /// The rows `list` (any order, repeats allowed) as a `[list.count, columns]` matrix; runs of
    /// consecutive rows are read with one `pread`.
    ///
    /// - Complexity: `O(list.count · columns)` values read, one `pread` per run of consecutive rows.
    public func gather(_ list: [Int]) throws -> Matrix {
        var out = Matrix(rows: list.count, cols: columns)
        let d = columns
        try out.values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var i = 0
            while i < list.count {
                var j = i + 1
                while j < list.count && list[j] == list[j - 1] + 1 { j += 1 }
                let start = list[i], end = list[j - 1] + 1
                guard start >= 0, end <= rows else {
                    throw InputError(description, "row \(start < 0 ? start : end - 1) is outside the \(rows) rows of the embeddings")
                }
                try read(start..<end, into: UnsafeMutableBufferPointer(start: base + i * d, count: (j - i) * d))
                i = j
            }
        }
        return out
    }

    /// Reads every row once, in order, handing `body` the first row of each chunk and the chunk
    /// (`[≤ chunkRows, columns]`), and fingerprints every part on the way (its header and data, in
    /// file order).
    ///
    /// - Parameters:
    ///   - chunkRows: rows per chunk (≥ 1); the last chunk may be shorter.
    ///   - progress: called after each chunk with the rows read so far and the total.
    /// - Returns: one fingerprint per part.
    /// - Complexity: one sequential pass over the files; memory one chunk (`chunkRows · columns`
    ///   floats, plus as many stored values for `<f2` and `<f8`).
    public func forEachChunk(rows chunkRows: Int, progress: ((Int, Int) -> Void)? = nil,
                             _ body: (Int, Matrix) throws -> Void) throws -> [Fingerprint] {
        let step = Swift.max(1, chunkRows)
        var started = Array(repeating: XXH64(), count: parts.count)
        // Headers first: every part's hash starts with its header bytes.
        for (p, part) in parts.enumerated() {
            var header = [UInt8](repeating: 0, count: part.dataOffset)
            try header.withUnsafeMutableBytes { try files[p].file.read(into: $0, at: 0) }
            started[p].update(header)
        }
        hashes = started
        defer { hashes = nil }
        var chunk = Matrix(rows: Swift.min(step, rows), cols: columns)
        var first = 0
        while first < rows {
            let count = Swift.min(step, rows - first)
            if count != chunk.rows { chunk = Matrix(rows: count, cols: columns) }
            try chunk.values.withUnsafeMutableBufferPointer { buffer in
                try read(first..<(first + count), into: buffer)
            }
            try body(first, chunk)
            first += count
            progress?(first, rows)
        }
        let finished = hashes ?? []
        return parts.enumerated().map { p, part in
            Fingerprint(path: part.path, bytes: part.bytes, rows: part.rows, columns: columns,
                        xxh64: finished[p].finalizeHex())
        }
    }

    /// Reads rows `range` into `out` (`range.count · columns` values), part by part; feeds the raw
    /// bytes to the part's running hash during a sequential pass.
    private func read(_ range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = out.baseAddress, !range.isEmpty else { return }
        let d = columns
        var row = range.lowerBound
        var p = partIndex(containing: row)
        while row < range.upperBound {
            let part = parts[p]
            let local = row - part.firstRow
            let count = Swift.min(range.upperBound, part.firstRow + part.rows) - row
            let destination = UnsafeMutableBufferPointer(start: base + (row - range.lowerBound) * d, count: count * d)
            try readPart(p, rows: local..<(local + count), into: destination)
            row += count
            p += 1
        }
    }

    /// The part holding `row` (binary search over the parts' first rows).
    private func partIndex(containing row: Int) -> Int {
        var lo = 0, hi = parts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if parts[mid].firstRow <= row { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Reads rows `local` of part `p` into `out`, converting to `Float` and checking finiteness.
    private func readPart(_ p: Int, rows local: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        let part = parts[p], opened = files[p], d = columns
        let offset = part.dataOffset + local.lowerBound * d * itemSize
        switch itemSize {
        case 4:
            let raw = UnsafeMutableRawBufferPointer(out)
            try opened.file.read(into: raw, at: offset)
            hashes?[p].update(UnsafeRawBufferPointer(raw))
            #if _endian(big)
            for i in 0..<out.count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
            #endif
        default:
            // Converted in pieces of 64 Ki values through one scratch buffer (NpyFile's reader).
            try NpyFile.readConverting(opened.file, at: offset, itemSize: itemSize, into: out) { bytes, chunk, _ in
                hashes?[p].update(bytes)
                for i in 0..<chunk.count {
                    if itemSize == 2 {
                        chunk[i] = NpyFile.floatFromHalfBits(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    } else {
                        chunk[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                    }
                }
            }
        }
        if let index = NpyFile.firstNonFiniteIndex(UnsafeBufferPointer(out)) {
            let value = out[index]
            var description = value.isNaN ? "NaN" : (value > 0 ? "+infinity" : "-infinity")
            if itemSize == 8 {
                var bits: UInt64 = 0
                try withUnsafeMutableBytes(of: &bits) { try opened.file.read(into: $0, at: offset + 8 * index) }
                let original = Double(bitPattern: UInt64(littleEndian: bits))
                if original.isFinite {
                    description = "\(original), outside the float32 range (±\(Float.greatestFiniteMagnitude))"
                }
            }
            throw InputError(part.path, field: "row \(local.lowerBound + index / d)",
                             "value at column \(index % d) is \(description); embeddings must be finite")
        }
    }
}
