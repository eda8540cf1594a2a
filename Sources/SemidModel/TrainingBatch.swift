/// A batch of sequences packed for the transformer: all positions of all sequences stacked in
/// one `[N, ·]` matrix (no padding), with each position's input item, position index and target.
///
/// With user tokens (``ModelConfiguration/userTokens``) each sequence also carries its user's
/// table codes (``userCodes``), and with ``userPrefix`` its first position is the user token
/// (input and position `-1`, no target).
public struct TrainingBatch: Sendable {
    /// Token ranges of the sequences.
    public var layout: PackedSequences
    /// `[N]` input item at each position (`-1` at a user-token position).
    public var inputs: [Int32]
    /// `[N]` position index (0 = the oldest item of the window; `-1` at a user-token position).
    public var positions: [Int32]
    /// `[N]` the item to predict after each position, or `-1` for none.
    public var targets: [Int32]
    /// `[S, userLevels]` the user-table codes of each sequence's user (`-1` = contributes
    /// nothing); empty without user tokens.
    public var userCodes: [Int32] = []
    /// Codes per sequence in ``userCodes``.
    public var userLevels = 0
    /// Whether each sequence starts with a user-token position.
    public var userPrefix = false
    /// `[S]` per sequence, how many of its first item positions must not see the user token
    /// (their targets lie inside the history the user ID was made from; see
    /// ``teacherForcing(_:maxHistory:userCodes:userPrefix:userIDItems:)``); empty = none hidden.
    public var userHidden: [Int32] = []

    /// The number of positions.
    public var tokenCount: Int { inputs.count }
    /// The number of positions with a target.
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
    /// The number of sequences.
    public var sequenceCount: Int { layout.count }

    /// Creates a batch from its arrays (no user tokens).
    public init(layout: PackedSequences, inputs: [Int32], positions: [Int32], targets: [Int32]) {
        self.layout = layout
        self.inputs = inputs
        self.positions = positions
        self.targets = targets
    }

    /// Packs `sequences`: each sequence `s` gives inputs `s[0..<T]` and targets `s[1...T]` (teacher
    /// forcing at every position), keeping the last `maxHistory + 1` items. Sequences with fewer
    /// than 2 items are skipped (with their `userCodes` row).
    ///
    /// - Parameters:
    ///   - userCodes: per sequence, the user-table codes (all rows of one length); `nil` without
    ///     user tokens.
    ///   - userPrefix: put a user-token position before each sequence's first item.
    ///   - userIDItems: per sequence, the number `c` of its first items the user ID was made from
    ///     (`nil` = the ID is visible everywhere). Positions `0..<c−1` predict items inside those
    ///     `c`, so they are hidden from the user token (``userHidden``); position `c−1` (input
    ///     `s[c−1]`, target `s[c]`) and later see it.
    public static func teacherForcing(_ sequences: [ArraySlice<Int32>], maxHistory: Int, userCodes: [[Int32]]? = nil,
                                      userPrefix: Bool = false, userIDItems: [Int]? = nil) -> TrainingBatch {
        var lengths: [Int] = [], inputs: [Int32] = [], positions: [Int32] = [], targets: [Int32] = []
        var users: [Int32] = [], hidden: [Int32] = []
        let prefix = userPrefix && userCodes != nil
        for (index, s) in sequences.enumerated() where s.count >= 2 {
            let window = s.suffix(maxHistory + 1)
            let t = window.count - 1
            lengths.append(t + (prefix ? 1 : 0))
            if let userCodes { users += userCodes[index] }
            if let userIDItems {
                let windowStart = s.count - window.count
                hidden.append(Int32(min(t, max(0, userIDItems[index] - 1 - windowStart))))
            }
            if prefix { inputs.append(-1); targets.append(-1); positions.append(-1) }
            var p: Int32 = 0
            for (a, b) in zip(window.dropLast(), window.dropFirst()) {
                inputs.append(a); targets.append(b); positions.append(p); p += 1
            }
        }
        var batch = TrainingBatch(layout: PackedSequences(lengths: lengths), inputs: inputs, positions: positions, targets: targets)
        if let userCodes {
            batch.userCodes = users
            batch.userLevels = userCodes.first?.count ?? 0
            batch.userPrefix = prefix
            batch.userHidden = hidden
        }
        return batch
    }

    /// How many leading item positions of sequence `s` do not see the user token (0 when
    /// ``userHidden`` is empty).
    public func hiddenFromUser(_ s: Int) -> Int { userHidden.isEmpty ? 0 : Int(userHidden[s]) }

    /// Packs histories for inference: the last `maxHistory` items of each (each non-empty), no
    /// targets. The model's output for a history is at its last position. `userCodes` and
    /// `userPrefix` as in ``teacherForcing(_:maxHistory:userCodes:userPrefix:userIDItems:)`` (nothing is hidden).
    public static func histories<C: Collection>(_ histories: [C], maxHistory: Int, userCodes: [[Int32]]? = nil,
                                                userPrefix: Bool = false) -> TrainingBatch where C.Element == Int32 {
        var lengths: [Int] = [], inputs: [Int32] = [], positions: [Int32] = []
        let prefix = userPrefix && userCodes != nil
        for h in histories {
            let window = h.suffix(maxHistory)
            lengths.append(window.count + (prefix ? 1 : 0))
            if prefix { inputs.append(-1); positions.append(-1) }
            var p: Int32 = 0
            for item in window { inputs.append(item); positions.append(p); p += 1 }
        }
        var batch = TrainingBatch(layout: PackedSequences(lengths: lengths), inputs: inputs, positions: positions,
                                  targets: [Int32](repeating: -1, count: inputs.count))
        if let userCodes {
            batch.userCodes = userCodes.flatMap { $0 }
            batch.userLevels = userCodes.first?.count ?? 0
            batch.userPrefix = prefix
        }
        return batch
    }
}
