/// Everything that can go wrong when building a ``CodeTrie`` or running a ``ConstrainedBeamSearch``.
///
/// Every case comes from input the caller controls (an ID matrix, a loaded file, a history, a
/// search setting), so the decoder reports it instead of crashing; ``description`` is one line
/// that says what was wrong and what was expected.
public enum DecodingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A shape or size did not fit, e.g. an ID matrix whose length is not a multiple of the level
    /// count, an empty `codebookSizes`, or a codebook size outside `1...65536`.
    case invalidShape(String)
    /// The ID matrix has no rows: a trie needs at least one item.
    case emptyIndex
    /// Two items share one semantic ID (`firstItem < secondItem`); `codes` is that ID.
    case duplicateID(firstItem: Int, secondItem: Int, codes: [Int32])
    /// `code` of `item` at `level` is not in `0..<codebookSize`.
    case codeOutOfRange(item: Int, level: Int, code: Int32, codebookSize: Int)
    /// Flat trie arrays (e.g. loaded from disk) break an invariant; the text says which.
    case corruptTrie(String)
    /// The beam width must be at least 1.
    case invalidBeamWidth(Int)
    /// The number of results per query must be at least 1.
    case invalidTopK(Int)
    /// The beam must hold at least `topK` partial IDs to return `topK` items.
    case beamSmallerThanTopK(beamWidth: Int, topK: Int)
    /// The number of histories a scorer call may hold must be at least 1.
    case invalidQueriesPerScorerCall(Int)
    /// Query `query` has fewer than `topK` items left after its exclusions and the allowed subset.
    case notEnoughItems(query: Int, available: Int, topK: Int)
    /// Query `query` has an empty history.
    case emptyHistory(query: Int)
    /// `item` (found in `context`, e.g. "history of query 3") is not an item of the index, whose
    /// items are `0..<itemCount`.
    case unknownItem(item: Int64, itemCount: Int, context: String)
    /// The scorer produces log-probabilities for other codebook sizes than the trie has.
    case scorerMismatch(trie: [Int], scorer: [Int])
    /// A per-query argument has a different number of entries than there are histories.
    case batchMismatch(histories: Int, other: Int, argument: String)
    /// An ``ItemSubset`` built for a trie with another number of items was used.
    case subsetMismatch(subsetItems: Int, trieItems: Int)
    /// A state the decoder should never reach (a bug, not bad input); the text says where.
    case internalInconsistency(String)

    /// One line saying what was wrong and what was expected.
    public var description: String {
        switch self {
        case .invalidShape(let text):
            return "invalid shape: \(text)"
        case .emptyIndex:
            return "the ID matrix has no rows: a trie needs at least one item"
        case .duplicateID(let a, let b, let codes):
            return "items \(a) and \(b) have the same semantic ID \(codes); IDs must be unique (apply a collision policy first)"
        case .codeOutOfRange(let item, let level, let code, let size):
            return "item \(item) has code \(code) at level \(level), outside 0..<\(size)"
        case .corruptTrie(let text):
            return "corrupted trie: \(text)"
        case .invalidBeamWidth(let b):
            return "beam width \(b) is invalid: it must be at least 1"
        case .invalidTopK(let k):
            return "top-K \(k) is invalid: it must be at least 1"
        case .beamSmallerThanTopK(let b, let k):
            return "beam width \(b) is smaller than top-K \(k): the beam must hold at least K partial IDs (use a beam width of at least \(k))"
        case .invalidQueriesPerScorerCall(let q):
            return "queries per scorer call \(q) is invalid: it must be at least 1"
        case .notEnoughItems(let q, let available, let k):
            return "query \(q) has only \(available) item\(available == 1 ? "" : "s") left after exclusions, fewer than top-K \(k)"
        case .emptyHistory(let q):
            return "query \(q) has an empty history: at least one item is needed"
        case .unknownItem(let item, let count, let context):
            return "item \(item) in the \(context) is not in the index (items are 0..<\(count))"
        case .scorerMismatch(let trie, let scorer):
            return "the scorer's codebook sizes \(scorer) differ from the trie's \(trie)"
        case .batchMismatch(let h, let o, let argument):
            return "\(argument) has \(o) entries but there are \(h) histories"
        case .subsetMismatch(let s, let t):
            return "the item subset was built for an index of \(s) items, but the trie has \(t)"
        case .internalInconsistency(let text):
            return "internal error in the decoder (please report): \(text)"
        }
    }
}
