/// What ``Pipeline/plan(_:)`` compares: candidate ID shapes for one embeddings file.
public struct PlanRequest: Sendable {
    /// The item embeddings (`.npy`, `[rows, d]`; a comma-free list of parts reads them in order).
    /// Only the sampled rows are read.
    public var embeddings: [String]
    /// Shapes, sample, seed, `N` and the collision threshold.
    public var settings: CapacityPlan.Settings
    /// Reports each shape and its k-means levels.
    public var progress: ProgressHandler?

    /// A request to plan from `embeddings` (one file, or the parts of one matrix in order).
    public init(embeddings: [String], settings: CapacityPlan.Settings = CapacityPlan.Settings(), progress: ProgressHandler? = nil) {
        self.embeddings = embeddings
        self.settings = settings
        self.progress = progress
    }
}

extension Pipeline {
    /// Estimates, from a seeded sample, the raw collision rate and distinct prefixes per level of
    /// each candidate shape at the catalog's size and recommends one (``CapacityPlan``).
    ///
    /// - Complexity: per shape, RQ-KMeans training and encoding on the sample; memory
    ///   `O(sample · d)`, independent of the file's row count.
    public static func plan(_ request: PlanRequest) throws -> CapacityPlan {
        let source = try NpyRowSource(paths: request.embeddings)
        return try CapacityPlan.make(embeddings: source, settings: request.settings, progress: request.progress)
    }
}
