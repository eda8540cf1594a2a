/// Problems the pipeline layer finds between its inputs (each reader's own errors, such as
/// ``InputError`` for a malformed file, pass through unchanged).
///
/// Cases name the request's parameters (e.g. `codebookSize`) and the files involved; the
/// command-line tool words them with its flag names.
public enum PipelineError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `path` exists and is not a semid index: it is never replaced, even with `overwrite`.
    case outputNotAnIndex(path: String)
    /// The embeddings have fewer rows than `codebookSize`, the codes of one level (the largest level's).
    case fewerRowsThanCodes(file: String, rows: Int, codebookSize: Int)
    /// A k-means warm-up dimension is more than half the embeddings' dimension.
    case warmupDimensionTooLarge(dimension: Int, embeddingDimension: Int, file: String)
    /// The item catalog `items` lists `count` items but the embeddings (`embeddings`, or in
    /// memory when `nil`) have `rows` rows.
    case itemCountMismatch(items: String, count: Int, embeddings: String?, rows: Int)
    /// The index already has user IDs and the request neither adds nor replaces them.
    case userIDsExist(index: String)
    /// Per-user embeddings whose row count is not the number of users in the sequences.
    case userEmbeddingRows(file: String, rows: Int, sequences: String, users: Int)
    /// Item vectors whose row count is not the index's item count.
    case itemVectorRows(file: String, rows: Int, items: Int)
    /// The index's codes cannot be decoded to item vectors (assigned IDs): `itemEmbeddings` is needed.
    case itemVectorsNeeded(index: String, method: String)

    /// `path` exists and is not a directory, where a directory is written.
    case notADirectory(path: String)
    /// Runs with user tokens need at least as many users as user codes per level.
    case fewerUsersThanCodes(sequences: String, users: Int, codebookSize: Int)
    /// `path` exists and replacing it was not requested (`overwrite`).
    case outputExists(path: String)
    /// `path` is a directory where a file is written.
    case outputIsADirectory(path: String)
    /// A history item that is not an item of the index (items are `0..<items`).
    case unknownItem(item: Int, items: Int)
    /// A user the index has no user ID for (users `0..<users` have one).
    case userWithoutID(user: Int, index: String, users: Int)
    /// No user of `sequences` has enough items for the `split` target.
    case noEvaluationCases(sequences: String, split: String)
    /// The index quantizes vectors made from sequences (`source`), which cannot be re-encoded.
    case notContentVectors(index: String, source: String)
    /// Embeddings parts of different dimensions.
    case dimensionMismatch(file: String, dimension: Int, first: String, firstDimension: Int)

    /// One line naming the files and parameters involved.
    public var description: String {
        switch self {
        case .outputNotAnIndex(let path):
            return "\(path) exists and is not a semid index; refusing to replace it"
        case let .fewerRowsThanCodes(file, rows, codebookSize):
            return "\(file): has \(rows) rows, fewer than codebookSize \(codebookSize): need at least as many vectors as codes per level"
        case let .warmupDimensionTooLarge(dimension, embeddingDimension, file):
            return "k-means warm-up dimension \(dimension) is more than half the embedding dimension (\(embeddingDimension) in \(file)); use dimensions up to \(embeddingDimension / 2), or none"
        case let .itemCountMismatch(items, count, embeddings, rows):
            return "\(items) lists \(count) items but \(embeddings ?? "the embeddings") \(embeddings == nil ? "have" : "has") \(rows) rows; row i of the embeddings must be item i"
        case .userIDsExist(let index):
            return "\(index) already has user IDs; add IDs for new users or replace them (UserIDRequest.Mode)"
        case let .userEmbeddingRows(file, rows, sequences, users):
            return "\(file): has \(rows) rows but \(sequences) has \(users) users; row u must be user u"
        case let .itemVectorRows(file, rows, items):
            return "\(file): has \(rows) rows but the index has \(items) items"
        case let .itemVectorsNeeded(index, method):
            return "\(index) has \(method) IDs that cannot be decoded to vectors; give itemEmbeddings"
        case .outputExists(let path):
            return "\(path) already exists; set overwrite to replace it"
        case .outputIsADirectory(let path):
            return "\(path) is a directory; give a file name such as report.html"
        case let .unknownItem(item, items):
            return "history: item \(item) is not in the index (items are 0..<\(items))"
        case let .userWithoutID(user, index, users):
            return "user \(user) has no user ID in \(index) (users 0…\(users - 1) have one); give it one with Pipeline.assignUserIDs (mode add)"
        case let .noEvaluationCases(sequences, split):
            return "\(sequences): no user has enough items for the \(split) split"
        case let .notContentVectors(index, source):
            return "\(index) quantizes \(source) vectors, which are computed from the interaction sequences at build time; verify re-encodes content embeddings only"
        case let .dimensionMismatch(file, dimension, first, firstDimension):
            return "\(file) has dimension \(dimension) but \(first) has \(firstDimension)"
        case .notADirectory(let path):
            return "\(path) exists and is not a directory; give a directory for the comparison's indexes"
        case let .fewerUsersThanCodes(sequences, users, codebookSize):
            return "users.codebookSize \(codebookSize) is larger than the \(users) users of \(sequences); user IDs need at least as many users as codes per level"
        }
    }
}
