/// What ``Pipeline/verify(_:)`` re-encodes.
public struct VerifyRequest: Sendable {
    /// The index directory.
    public var index: String
    /// The embeddings of every item in item order: the build's, then those of later adds.
    public var embeddings: [PipelineInput<Matrix>]

    /// A request to re-encode `embeddings` with `index`'s frozen quantizer.
    public init(index: String, embeddings: [PipelineInput<Matrix>]) {
        self.index = index
        self.embeddings = embeddings
    }
}

/// What ``Pipeline/verify(_:)`` found.
public struct VerifyResult: Sendable {
    /// One embeddings file given, and the batch of the manifest it is the recorded input of (by
    /// size and XXH64), if any.
    public struct File: Sendable {
        /// The path (or `"embeddings[i]"` for a matrix in memory).
        public var file: String
        /// The manifest's batch whose embeddings input has these bytes.
        public var batch: Int?
    }

    /// The comparison of stored and re-encoded codes.
    public var verification: CodeVerification
    /// The files given, in order.
    public var files: [File]
    /// The index as opened.
    public var index: SemanticIndex
}

extension Pipeline {
    /// Re-encodes the items with the index's frozen quantizer and compares with the stored raw
    /// codes and final IDs; encoding is exact, so a faithful index reproduces on any CPU.
    /// `O(items · levels · K · d)`.
    ///
    /// ``VerifyResult/verification`` says whether it passed; a mismatch is a result, not an error.
    /// - Throws: ``PipelineError/notContentVectors(index:source:)`` for an index of vectors made
    ///   from sequences, ``PipelineError/dimensionMismatch(file:dimension:first:firstDimension:)``.
    public static func verify(_ request: VerifyRequest) throws -> VerifyResult {
        let opened = try IndexStore.open(at: request.index)
        if let source = opened.manifest.parameters.source, source != .content {
            throw PipelineError.notContentVectors(index: request.index, source: source.rawValue)
        }
        var vectors = Matrix(rows: 0, cols: 0)
        var files: [VerifyResult.File] = []
        var first: String?
        for (position, input) in request.embeddings.enumerated() {
            let part: Matrix
            let name: String
            var print: InputFingerprint?
            switch input {
            case .file(let path):
                part = try NpyFile.readMatrix(at: path)
                name = path
            case let .memory(value, fingerprint):
                part = value
                name = "embeddings[\(position)]"
                print = fingerprint
            }
            if vectors.rows > 0 && part.cols != vectors.cols {
                throw PipelineError.dimensionMismatch(file: name, dimension: part.cols, first: first ?? name, firstDimension: vectors.cols)
            }
            if first == nil { first = name }
            vectors.appendRows(of: part)
            if case .file(let path) = input {
                print = try InputFingerprint(role: "embeddings", path: path, rows: part.rows, columns: part.cols)
            }
            let batch = print.flatMap { print in
                opened.manifest.batches.first { batch in
                    batch.inputs.contains { $0.role == "embeddings" && $0.xxh64 == print.xxh64 && $0.bytes == print.bytes }
                }
            }
            files.append(VerifyResult.File(file: name, batch: batch?.batch))
        }
        return VerifyResult(verification: try CodeVerification(index: opened, vectors: vectors), files: files, index: opened)
    }
}
