/// A batch of sequences packed for the transformer: all positions of all sequences stacked in
/// one `[N, ·]` matrix (no padding), with each position's input item, position index and target.
public struct TrainingBatch: Sendable {
    /// Token ranges of the sequences.
    public var layout: PackedSequences
    /// `[N]` input item at each position.
    public var inputs: [Int32]
    /// `[N]` position index (0 = the oldest item of the window).
    public var positions: [Int32]
    /// `[N]` the item to predict after each position, or `-1` for none.
    public var targets: [Int32]

    /// The number of positions.
    public var tokenCount: Int { inputs.count }
    /// The number of positions with a target.
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// Packs `sequences`: each sequence `s` gives inputs `s[0..<T]` and targets `s[1...T]` (teacher
    /// forcing at every position), keeping the last `maxHistory + 1` items. Sequences with fewer
    /// than 2 items are skipped.
    public static func teacherForcing(_ sequences: [ArraySlice<Int32>], maxHistory: Int) -> TrainingBatch {
        var lengths: [Int] = [], inputs: [Int32] = [], positions: [Int32] = [], targets: [Int32] = []
        for s in sequences where s.count >= 2 {
            let window = s.suffix(maxHistory + 1)
            let t = window.count - 1
            lengths.append(t)
            var p: Int32 = 0
            for (a, b) in zip(window.dropLast(), window.dropFirst()) {
                inputs.append(a); targets.append(b); positions.append(p); p += 1
            }
        }
        return TrainingBatch(layout: PackedSequences(lengths: lengths), inputs: inputs, positions: positions, targets: targets)
    }

    /// Packs histories for inference: the last `maxHistory` items of each (each non-empty), no
    /// targets. The model's output for a history is at its last position.
    public static func histories<C: Collection>(_ histories: [C], maxHistory: Int) -> TrainingBatch where C.Element == Int32 {
        var lengths: [Int] = [], inputs: [Int32] = [], positions: [Int32] = []
        for h in histories {
            let window = h.suffix(maxHistory)
            lengths.append(window.count)
            var p: Int32 = 0
            for item in window { inputs.append(item); positions.append(p); p += 1 }
        }
        return TrainingBatch(layout: PackedSequences(lengths: lengths), inputs: inputs, positions: positions,
                             targets: [Int32](repeating: -1, count: inputs.count))
    }
}
