/// Problems the pipeline layer finds between its inputs (each reader's own errors, such as
/// ``InputError`` for a malformed file, pass through unchanged).
///
/// Cases name the request's parameters (e.g. `codebookSize`) and the files involved; the
/// command-line tool words them with its flag names.
public enum PipelineError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `path` exists and is not a semid index: it is never replaced, even with `overwrite`.
    case outputNotAnIndex(path: String)
    /// The embeddings have fewer rows than `codebookSize`, the codes of one level.
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
        case .notADirectory(let path):
            return "\(path) exists and is not a directory; give a directory for the comparison's indexes"
        case let .fewerUsersThanCodes(sequences, users, codebookSize):
            return "users.codebookSize \(codebookSize) is larger than the \(users) users of \(sequences); user IDs need at least as many users as codes per level"
        }
    }
}
