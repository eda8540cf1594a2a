import Dispatch

/// What ``Pipeline/recommend(_:)`` decodes, with which index and model.
public struct RecommendRequest: Sendable {
    /// The index with its model (``Pipeline/open(_:)``).
    public var index: TrainedIndex
    /// One history: item ids of the index, oldest first.
    public var history: [Int32]
    /// The user whose semantic ID a model trained with user tokens reads (`nil`: the unknown-user
    /// token); ignored by a model without user tokens.
    public var user: Int?
    /// How many items to return.
    public var top = 10
    /// Beam width (at least `top`).
    public var beam = 20
    /// Never return an item of the history.
    public var excludeHistory = false
    /// Time this many calls after one warm-up call; ``Recommendation/latencyMilliseconds`` is their median.
    public var repeats = 1

    /// A request for the next items after `history`.
    public init(index: TrainedIndex, history: [Int32]) {
        self.index = index
        self.history = history
    }
}

/// What ``Pipeline/recommend(_:)`` decoded.
public struct Recommendation: Sendable {
    /// The top items, best first, each with its score (the model's log-probability) and its ID.
    public var items: [DecodedItem]
    /// Titles of the decoded items and of the history's items, by item id (untitled items absent).
    public var titles: [Int: String]
    /// Median wall-clock milliseconds of one decoding call (after the index is loaded).
    public var latencyMilliseconds: Double
    /// How many calls were timed.
    public var timedCalls: Int
    /// Whether the model read a user token: `nil` without user tokens, `false` for the unknown user.
    public var readUserToken: Bool?
}

extension Pipeline {
    /// Decodes the next items for one history by trie-constrained beam search, so every result is
    /// a real item of the index.
    ///
    /// Costs `repeats + 1` searches of `O(levels · beam · (scorer call + K))` each.
    ///
    /// - Throws: ``PipelineError/unknownItem(item:items:)`` for a history item outside the index,
    ///   ``PipelineError/userWithoutID(user:index:users:)`` for a user the index has no ID for.
    public static func recommend(_ request: RecommendRequest) throws -> Recommendation {
        let opened = request.index
        let n = opened.model.itemCount
        if let bad = request.history.first(where: { $0 < 0 || Int($0) >= n }) {
            throw PipelineError.unknownItem(item: Int(bad), items: n)
        }
        let readsUsers = opened.model.configuration.userTokens
        if readsUsers, let user = request.user, let known = opened.users, known.id(of: user) == nil {
            throw PipelineError.userWithoutID(user: user, index: opened.index.path ?? "the index", users: known.userCount)
        }
        let users: [Int?]? = readsUsers ? [request.user] : nil
        func search() throws -> BeamSearchResults {
            try opened.recommend(histories: [request.history], users: users, top: request.top, beam: request.beam,
                                 excludeHistory: request.excludeHistory)
        }
        // Warm-up call (allocations, page faults), then the timed calls.
        var last = try search()
        var times: [Double] = []
        for _ in 0..<max(1, request.repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            last = try search()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let decoded = last[0]
        let titles = try opened.index.catalog().titles(of: decoded.map { Int($0.item) } + request.history.map(Int.init))
        return Recommendation(items: decoded, titles: titles, latencyMilliseconds: times.sorted()[times.count / 2],
                              timedCalls: times.count, readUserToken: readsUsers ? request.user != nil : nil)
    }
}
