import SemidMath

/// Residual k-means ("RQ-KMeans"): `L` codebooks, `K_l` centroids at level `l`; level `l` quantizes what the
/// previous levels left over. Encoding is greedy (beam 1), so items sharing an ID prefix are close.
public struct ResidualQuantizer: SemanticQuantizer, Equatable {
    /// The codebooks, one `[K_l, d]` matrix per level.
    public let codebooks: [Matrix]

    /// The dimension of the vectors.
    public var inputDimension: Int { codebooks.first?.cols ?? 0 }
    /// The number of levels.
    public var levels: Int { codebooks.count }
    /// The codes at each level, `K_l`.
    public var codebookSizes: [Int] { codebooks.map(\.rows) }

    /// Wraps trained codebooks `[K_l, d]`; all share the dimension `d`, each has at least one code.
    public init(codebooks: [Matrix]) throws {
        guard let first = codebooks.first else {
            throw QuantizationError.invalidParameter(name: "levels", value: "0", expected: "at least 1")
        }
        for (l, book) in codebooks.enumerated() where book.rows < 1 || book.cols != first.cols {
            throw QuantizationError.invalidParameter(
                name: "codebooks[\(l)]", value: "[\(book.rows), \(book.cols)]",
                expected: "[K ≥ 1, \(first.cols)] (every level on dimension \(first.cols))")
        }
        self.codebooks = codebooks
    }

    /// Greedy codes, level by level; `[n, d]` → `[n, L]`.
    public func encode(_ x: Matrix) throws -> CodeMatrix {
        try encodeWithResiduals(x).codes
    }

    /// Greedy codes plus what is left after all levels (`[n, d]`), and the squared error after each
    /// level (`L` arrays of `n`: the nearest-centroid distances, as ``ResidualKMeans/train(_:configuration:seed:progress:)``
    /// reports them).
    public func encodeWithResiduals(_ x: Matrix, progress: ProgressHandler? = nil)
        throws -> (codes: CodeMatrix, residual: Matrix, levelErrors: [[Float]])
    {
        guard x.cols == inputDimension else {
            throw QuantizationError.dimensionMismatch(expected: inputDimension, found: x.cols)
        }
        var residual = x
        var codes = CodeMatrix(rows: x.rows, levels: levels)
        var levelErrors: [[Float]] = []
        for (level, book) in codebooks.enumerated() {
            let (labels, distances) = Distances.nearest(residual, in: book)
            Self.subtract(book, labels: labels, from: &residual)
            for i in 0..<x.rows { codes[i, level] = labels[i] }
            levelErrors.append(distances)
            progress?(ProgressEvent(stage: "encoding", step: level + 1, total: levels))
        }
        return (codes, residual, levelErrors)
    }

    /// The sum of each row's codewords; `[n, L]` → `[n, d]`.
    public func reconstruct(_ codes: CodeMatrix) throws -> Matrix {
        try reconstruct(codes, levels: levels)
    }

    /// The sum of each row's codewords over the first `count` levels.
    public func reconstruct(_ codes: CodeMatrix, levels count: Int) throws -> Matrix {
        try codes.validate(codebookSizes: codebookSizes)
        let d = inputDimension
        var out = Matrix(rows: codes.rows, cols: d)
        out.values.withUnsafeMutableBufferPointer { o in
            for level in 0..<min(count, levels) {
                codebooks[level].values.withUnsafeBufferPointer { b in
                    for i in 0..<codes.rows {
                        let src = b.baseAddress! + Int(codes[i, level]) * d
                        let dst = o.baseAddress! + i * d
                        for t in 0..<d { dst[t] += src[t] }
                    }
                }
            }
        }
        return out
    }

    /// Squared distances from the residual before the last level to every last-level centroid (`[n, K_{L-1}]`).
    public func lastLevelDistances(_ x: Matrix, codes: CodeMatrix) throws -> Matrix {
        guard x.cols == inputDimension else {
            throw QuantizationError.dimensionMismatch(expected: inputDimension, found: x.cols)
        }
        var residual = x
        let partial = try reconstruct(codes, levels: levels - 1)
        for i in residual.values.indices { residual.values[i] -= partial.values[i] }
        return Distances.squaredDistances(from: residual, to: codebooks[levels - 1])
    }

    /// `residual[i] -= book[labels[i]]` for every row.
    static func subtract(_ book: Matrix, labels: [Int32], from residual: inout Matrix) {
        let d = book.cols
        book.values.withUnsafeBufferPointer { b in
            residual.values.withUnsafeMutableBufferPointer { r in
                let rb = SharedMutablePointer(r.baseAddress!)
                let bb = b.baseAddress!
                Parallel.forEachChunk(count: labels.count, minimumChunk: 4096) { range in
                    for i in range {
                        let src = bb + Int(labels[i]) * d, dst = rb.pointer + i * d
                        for t in 0..<d { dst[t] -= src[t] }
                    }
                }
            }
        }
    }
}
