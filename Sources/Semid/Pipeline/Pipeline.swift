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
