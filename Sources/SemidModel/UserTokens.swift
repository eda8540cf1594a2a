import SemidIndex

/// Users' semantic IDs as the model reads them: row `u` is user `u`'s ID (from `semid users`).
public struct UserCodes: Sendable, Equatable {
    /// Users with an ID (`0..<userCount`).
    public let userCount: Int
    /// The vocabulary of each user-ID position.
    public let codeSizes: [Int]
    /// Row-major `[userCount, levels]`.
    public let codes: [Int32]

    /// Wraps a user-ID matrix; every code must lie in its position's vocabulary.
    public init(codes: [Int32], codeSizes: [Int]) throws {
        let levels = codeSizes.count
        guard levels >= 1, codes.count % levels == 0 else {
            throw ModelError.inconsistentInput("user-ID matrix of \(codes.count) values does not fit \(levels) positions")
        }
        for (i, c) in codes.enumerated() where c < 0 || Int(c) >= codeSizes[i % levels] {
            throw ModelError.inconsistentInput("user \(i / levels) has code \(c) at position \(i % levels), outside 0..<\(codeSizes[i % levels])")
        }
        self.userCount = codes.count / levels
        self.codeSizes = codeSizes
        self.codes = codes
    }

    /// The user IDs stored in an index by `semid users`: the final (collision-resolved) IDs, or
    /// with `raw` the user quantizer's own codes, which are what a model trained on causal user
    /// IDs reads (``UserIDEncoder`` makes raw codes; a collision policy such as `sinkhorn` may
    /// rewrite the last level of the final IDs).
    public init(_ ids: UserIDs, raw: Bool = false) throws {
        if raw {
            try self.init(codes: ids.rawCodes.values,
                          codeSizes: ids.quantizer.codebookSizes)
        } else {
            try self.init(codes: ids.ids.values, codeSizes: ids.section.codeSizes)
        }
    }

    /// The user IDs of `index` (final, or with `raw` the quantizer's codes), or `nil` when it has none.
    public static func load(from index: SemanticIndex, raw: Bool = false) throws -> UserCodes? {
        try UserIDs.load(from: index).map { try UserCodes($0, raw: raw) }
    }

    /// ID positions per user.
    public var levels: Int { codeSizes.count }

    /// User `user`'s ID, or `nil` when the user has none.
    public func id(of user: Int) -> ArraySlice<Int32>? {
        guard user >= 0 && user < userCount else { return nil }
        return codes[(user * levels)..<((user + 1) * levels)]
    }

    /// The IDs of `users` (each must have one), for training and evaluation; throws
    /// ``ModelError/inconsistentInput(_:)`` naming the first user without an ID.
    public func ids<S: Sequence>(of users: S) throws -> [[Int32]] where S.Element == Int {
        try users.map { u in
            guard let row = id(of: u) else {
                throw ModelError.inconsistentInput(
                    "user \(u) has no user ID (the index has IDs for users 0…\(userCount - 1)); run `semid users INDEX --sequences FILE --add` to give new users IDs")
            }
            return Array(row)
        }
    }
}

extension NextItemModel {
    /// The codes the model's user tables read for a user with semantic ID `id` (`nil` = no known
    /// user): one per table, `-1` where the position contributes nothing. The rule for IDs the
    /// model was not trained on (users added later with `semid users --add`): a code at or beyond
    /// its table's size becomes `-1` (a zero vector), positions beyond the tables are ignored
    /// and missing positions are `-1`. A user without an ID gets all `-1`, i.e. the zero user
    /// vector, which is what training shows with ``ModelConfiguration/userTokenDropout``.
    public func userTokenCodes<C: Collection>(_ id: C?) -> [Int32] where C.Element == Int32 {
        let sizes = configuration.userCodeSizes
        var out = [Int32](repeating: -1, count: sizes.count)
        guard let id else { return out }
        for (l, code) in id.prefix(sizes.count).enumerated() where code >= 0 && Int(code) < sizes[l] { out[l] = code }
        return out
    }

    /// A teacher-forcing batch of `sequences` (see
    /// ``TrainingBatch/teacherForcing(_:maxHistory:userCodes:userPrefix:userIDItems:)``) with each
    /// sequence's user ID (`users[s]`, `nil` = unknown) when the model reads user tokens, and
    /// optionally how many leading items of each sequence that ID was made from (`userIDItems`).
    public func teacherForcingBatch(_ sequences: [ArraySlice<Int32>], users: [[Int32]?]? = nil,
                                    userIDItems: [Int]? = nil) -> TrainingBatch {
        var batch = TrainingBatch.teacherForcing(sequences, maxHistory: configuration.maxHistory,
                                                 userCodes: userRows(users, count: sequences.count),
                                                 userPrefix: configuration.userTokens && configuration.userTokenPlacement == .prefix,
                                                 userIDItems: configuration.userTokens ? userIDItems : nil)
        batch.userLevels = configuration.userTokens ? configuration.userCodeSizes.count : 0
        return batch
    }

    /// An inference batch of `histories` (see ``TrainingBatch/histories(_:maxHistory:)``) with each
    /// history's user ID (`users[s]`, `nil` or an absent array = unknown).
    public func historyBatch<C: Collection>(_ histories: [C], users: [[Int32]?]? = nil) -> TrainingBatch where C.Element == Int32 {
        var batch = TrainingBatch.histories(histories, maxHistory: configuration.maxHistory,
                                            userCodes: userRows(users, count: histories.count),
                                            userPrefix: configuration.userTokens && configuration.userTokenPlacement == .prefix)
        batch.userLevels = configuration.userTokens ? configuration.userCodeSizes.count : 0
        return batch
    }

    /// One row of table codes per sequence (empty without user tokens).
    private func userRows(_ users: [[Int32]?]?, count: Int) -> [[Int32]]? {
        guard configuration.userTokens else { return nil }
        return (0..<count).map { s in
            guard let users, s < users.count else { return userTokenCodes(nil as [Int32]?) }
            return userTokenCodes(users[s])
        }
    }
}
