/// semid's verbs as library calls: each takes a typed request (paths or in-memory data) and
/// returns a typed result; the `semid` command-line tool only parses its arguments into a request,
/// calls the entry and renders the result.
///
/// | verb | entry | writes |
/// |------|-------|--------|
/// | build | ``build(_:)`` | a new index |
/// | add | ``add(_:)`` | the index, atomically |
/// | users | ``assignUserIDs(_:)`` | the index's user IDs |
/// | train | ``train(_:)`` | the index's model |
/// | recommend, eval | ``open(_:)`` then ``TrainedIndex/recommend(histories:users:top:beam:excludeHistory:)``, ``evaluate(_:)`` | nothing |
/// | export | ``export(_:)`` | one file or directory |
/// | compare | ``compare(_:)`` | one index per scheme |
/// | verify | ``verify(_:)`` | nothing |
/// | inspect | ``inspect(_:groups:)`` | nothing |
/// | report | ``report(_:)`` | one HTML file |
///
/// Every entry that writes an index writes it atomically (a staging directory renamed into place)
/// under the index's writer lock, so an interrupted call leaves the previous index intact.
public enum Pipeline {}

/// Input data given either as a file to read or as a value already in memory.
///
/// A file is read with semid's readers (which check its format and name it in their errors) and
/// its fingerprint (size and XXH64) is recorded in the manifest; an in-memory value is recorded
/// with the fingerprint given, or not at all when it is `nil`.
public enum PipelineInput<Value> {
    /// Read from this path.
    case file(String)
    /// Use this value; `fingerprint` is what the manifest records for it.
    case memory(Value, fingerprint: InputFingerprint?)

    /// The path, for a file input.
    public var path: String? {
        if case .file(let path) = self { return path }
        return nil
    }
}

extension PipelineInput: Sendable where Value: Sendable {}

extension PipelineInput where Value == Matrix {
    /// In-memory float32 embeddings `[n, d]` fingerprinted by their bytes as `name` (e.g.
    /// `"<memory float32>"`), as the C ABI records them.
    public static func memory(_ matrix: Matrix, role: String, name: String) -> PipelineInput {
        let fingerprint = matrix.values.withUnsafeBytes {
            InputFingerprint(role: role, name: name, bytes: $0, rows: matrix.rows, columns: matrix.cols)
        }
        return .memory(matrix, fingerprint: fingerprint)
    }
}

extension PipelineInput {
    /// The value and what the manifest records for it: a file is read with `read` and
    /// fingerprinted as `role` with the `rows` and `columns` of what was read; a value in memory
    /// comes with its own fingerprint (or none).
    func load(role: String, read: (String) throws -> Value,
              shape: (Value) -> (rows: Int, columns: Int?)) throws -> (value: Value, fingerprint: InputFingerprint?) {
        switch self {
        case .file(let path):
            let value = try read(path)
            let (rows, columns) = shape(value)
            return (value, try InputFingerprint(role: role, path: path, rows: rows, columns: columns))
        case let .memory(value, fingerprint):
            return (value, fingerprint)
        }
    }

    /// The file's path, or `memoryName` for a value in memory (for messages).
    func name(or memoryName: String) -> String { path ?? memoryName }
}

extension PipelineInput where Value == Matrix {
    /// A 2-D `.npy` file read whole (`[rows, columns]`, fingerprinted as `role`), or the matrix in memory.
    func load(role: String) throws -> (value: Matrix, fingerprint: InputFingerprint?) {
        try load(role: role, read: { try NpyFile.readMatrix(at: $0) }, shape: { ($0.rows, $0.cols) })
    }
}

extension PipelineInput where Value == [ItemRecord] {
    /// An item catalog (JSONL or LC-Rec `*.item.json`), or the records in memory.
    func load() throws -> (value: [ItemRecord], fingerprint: InputFingerprint?) {
        try load(role: "items", read: { try ItemCatalogFile.read(at: $0) }, shape: { ($0.count, nil) })
    }
}

extension PipelineInput where Value == [UserSequence] {
    /// User histories (TSV or LC-Rec `*.inter.json`; items must be below `itemCount`), or the
    /// histories in memory.
    func load(itemCount: Int) throws -> (value: [UserSequence], fingerprint: InputFingerprint?) {
        try load(role: "sequences", read: { try SequenceFile.read(at: $0, itemCount: itemCount) }, shape: { ($0.count, nil) })
    }
}
