/// Settings of a ``ConstrainedBeamSearch``.
public struct BeamSearchConfiguration: Sendable, Equatable, Codable {
    /// `B`: partial IDs kept per history at each level (`≥ 1` and `≥ topK`). Values above the
    /// number of items are clamped to it (no level can have more prefixes), so memory stays
    /// `O(min(B, n) · max K)` per history in flight.
    public var beamWidth: Int
    /// `K`: distinct items returned per history (`≥ 1`).
    public var topK: Int
    /// Also exclude every item of a query's history (e.g. already-seen items).
    public var excludeHistory: Bool
    /// Histories decoded together in one scorer call (larger batches make GEMMs more efficient;
    /// memory per worker grows linearly).
    public var queriesPerScorerCall: Int
    /// Split the batch of histories across all cores (``Parallel/workerCount``).
    public var parallel: Bool
    /// Time the scorer and the search separately and count beam-steps (``SearchStatistics``).
    public var collectStatistics: Bool

    /// Creates a configuration; see each property.
    public init(beamWidth: Int, topK: Int, excludeHistory: Bool = false, queriesPerScorerCall: Int = 8,
                parallel: Bool = true, collectStatistics: Bool = false) {
        self.beamWidth = beamWidth
        self.topK = topK
        self.excludeHistory = excludeHistory
        self.queriesPerScorerCall = queriesPerScorerCall
        self.parallel = parallel
        self.collectStatistics = collectStatistics
    }

    /// Throws the ``DecodingError`` for the first invalid setting.
    public func validate() throws {
        guard beamWidth >= 1 else { throw DecodingError.invalidBeamWidth(beamWidth) }
        guard topK >= 1 else { throw DecodingError.invalidTopK(topK) }
        guard beamWidth >= topK else { throw DecodingError.beamSmallerThanTopK(beamWidth: beamWidth, topK: topK) }
        guard queriesPerScorerCall >= 1 else { throw DecodingError.invalidQueriesPerScorerCall(queriesPerScorerCall) }
    }
}
