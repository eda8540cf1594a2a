/// The output of ``ConstrainedBeamSearch/search(histories:scorer:excluding:allowed:)``: exactly
/// `topK` distinct items per history, best first, in flat arrays.
public struct BeamSearchResults: Sendable, Equatable {
    /// The number of histories (queries).
    public let queryCount: Int
    /// Items per query.
    public let topK: Int
    /// Levels per ID (`L`).
    public let levels: Int
    /// `[queryCount, topK]`: item ids, best first.
    public let items: [Int32]
    /// `[queryCount, topK]`: each item's score, the sum of the scorer's log-probabilities along its
    /// ID (non-increasing within a query).
    public let scores: [Float]
    /// `[queryCount, topK, L]`: each item's semantic ID.
    public let codes: [Int32]
    /// Timings and counts, when ``BeamSearchConfiguration/collectStatistics`` is set.
    public let statistics: SearchStatistics?

    /// The results of query `q` (`0..<queryCount`), best first.
    public subscript(q: Int) -> [DecodedItem] {
        (0..<topK).map { r in
            let i = q * topK + r
            return DecodedItem(item: items[i], score: scores[i], codes: Array(codes[(i * levels)..<((i + 1) * levels)]))
        }
    }
}

/// One returned item.
public struct DecodedItem: Sendable, Equatable {
    /// The item id.
    public var item: Int32
    /// The sum of log-probabilities along its ID.
    public var score: Float
    /// Its semantic ID (`L` codes).
    public var codes: [Int32]

    /// Creates a result entry.
    public init(item: Int32, score: Float, codes: [Int32]) {
        self.item = item
        self.score = score
        self.codes = codes
    }
}

/// What a search spent its time on. Times are CPU nanoseconds summed over workers.
public struct SearchStatistics: Sendable, Equatable, Codable {
    /// Beams scored, summed over levels and queries (a query contributes 1 at level 0, then up to
    /// `B` per level).
    public var beamSteps: Int = 0
    /// ``beamSteps`` per level, `[L]`.
    public var beamStepsPerLevel: [Int]
    /// Children examined (the masked candidates), summed over beams.
    public var candidates: Int = 0
    /// Time inside the scorer (`start`, `logProbabilities`, `advance`).
    public var scorerNanoseconds: UInt64 = 0
    /// Time in the decoder itself: masking to the trie's children, sub-constraints, top-`B`
    /// selection, beam and prefix bookkeeping.
    public var searchNanoseconds: UInt64 = 0
    /// ``searchNanoseconds`` per level, `[L]`.
    public var searchNanosecondsPerLevel: [UInt64]
    /// The part of ``searchNanoseconds`` spent finding each beam's allowed codes: its node's
    /// child range in the trie (and the first cache line of its codes / bitset / items). This is
    /// the constraint lookup proper, what a dict-of-prefixes trie does per beam-step.
    public var lookupNanoseconds: UInt64 = 0

    /// Empty statistics for `levels` levels.
    public init(levels: Int) {
        beamStepsPerLevel = [Int](repeating: 0, count: levels)
        searchNanosecondsPerLevel = [UInt64](repeating: 0, count: levels)
    }

    /// The decoder's own cost (everything but the scorer: lookup, masked top-`B` selection,
    /// bookkeeping) per beam-step, in nanoseconds.
    public var constraintNanosPerBeamStep: Double {
        beamSteps == 0 ? 0 : Double(searchNanoseconds) / Double(beamSteps)
    }

    /// ``lookupNanoseconds`` per beam-step.
    public var lookupNanosPerBeamStep: Double {
        beamSteps == 0 ? 0 : Double(lookupNanoseconds) / Double(beamSteps)
    }

    /// ``constraintNanosPerBeamStep`` for each level, `[L]`.
    public var constraintNanosPerBeamStepByLevel: [Double] {
        zip(searchNanosecondsPerLevel, beamStepsPerLevel).map { $1 == 0 ? 0 : Double($0) / Double($1) }
    }

    /// Adds another worker's counts.
    mutating func merge(_ other: SearchStatistics) {
        beamSteps += other.beamSteps
        candidates += other.candidates
        scorerNanoseconds += other.scorerNanoseconds
        searchNanoseconds += other.searchNanoseconds
        lookupNanoseconds += other.lookupNanoseconds
        for l in beamStepsPerLevel.indices {
            beamStepsPerLevel[l] += other.beamStepsPerLevel[l]
            searchNanosecondsPerLevel[l] += other.searchNanosecondsPerLevel[l]
        }
    }
}
