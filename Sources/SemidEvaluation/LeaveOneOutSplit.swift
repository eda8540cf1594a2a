import SemidStorage

/// One evaluation query: a user's history (oldest first) and the item that came next.
public struct EvaluationCase: Sendable, Equatable {
    /// The user id from the sequences file.
    public var user: Int
    /// The items before the target, oldest first (at most the split's `maxHistory`).
    public var history: [Int32]
    /// The held-out next item.
    public var target: Int32

    /// Creates a case.
    public init(user: Int, history: [Int32], target: Int32) {
        self.user = user
        self.history = history
        self.target = target
    }
}

/// The leave-one-out protocol of SASRec, S3-Rec, P5, TIGER and LC-Rec.
///
/// For a user with sequence `s` of length `n`:
/// - **test**: target `s[n−1]`, history `s[0..<n−1]`;
/// - **validation**: target `s[n−2]`, history `s[0..<n−2]`;
/// - **training**: `s[0..<n−2]`, i.e. every prefix → next item inside it.
///
/// Histories keep their last `maxHistory` items. A user contributes a test case when `n ≥ 2`,
/// a validation case when `n ≥ 3` and training targets when `n ≥ 4` (the 5-core datasets have
/// `n ≥ 5` for everyone).
public struct LeaveOneOutSplit: Sendable {
    /// Which held-out item a case predicts.
    public enum Part: String, Sendable, CaseIterable, Codable {
        case valid, test
    }

    /// Per user (in input order), the training part `s[0..<n−2]` (may be empty).
    public let training: [[Int32]]
    /// The user id of each entry of ``training`` (from the sequences file).
    public let trainingUsers: [Int]
    /// Validation cases, in input order.
    public let validation: [EvaluationCase]
    /// Test cases, in input order.
    public let test: [EvaluationCase]
    /// The history length kept.
    public let maxHistory: Int
    /// Users read.
    public let userCount: Int

    /// Splits `sequences`; `maxHistory ≥ 1`.
    public init(sequences: [UserSequence], maxHistory: Int) {
        precondition(maxHistory >= 1)
        var training: [[Int32]] = [], trainingUsers: [Int] = [], validation: [EvaluationCase] = [], test: [EvaluationCase] = []
        training.reserveCapacity(sequences.count)
        for s in sequences {
            let items = s.items.map { Int32(truncatingIfNeeded: $0) }
            let n = items.count
            training.append(n >= 2 ? Array(items[0..<(n - 2)]) : [])
            trainingUsers.append(s.user)
            if n >= 3 {
                validation.append(EvaluationCase(user: s.user, history: Array(items[0..<(n - 2)].suffix(maxHistory)), target: items[n - 2]))
            }
            if n >= 2 {
                test.append(EvaluationCase(user: s.user, history: Array(items[0..<(n - 1)].suffix(maxHistory)), target: items[n - 1]))
            }
        }
        self.training = training
        self.trainingUsers = trainingUsers
        self.validation = validation
        self.test = test
        self.maxHistory = maxHistory
        self.userCount = sequences.count
    }

    /// The cases of `part`.
    public func cases(_ part: Part) -> [EvaluationCase] { part == .valid ? validation : test }

    /// Item counts over everything visible before `part`'s targets: the training parts for
    /// validation; the training parts plus each user's validation item for test. This is the
    /// popularity baseline's "model".
    public func itemCounts(before part: Part, itemCount: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: itemCount)
        for seq in training { for item in seq where Int(item) < itemCount { counts[Int(item)] += 1 } }
        if part == .test {
            for c in validation where Int(c.target) < itemCount { counts[Int(c.target)] += 1 }
        }
        return counts
    }
}
