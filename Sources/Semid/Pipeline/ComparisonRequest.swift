import Foundation

/// What ``Pipeline/compare(_:)`` compares, on which data, and where the indexes go.
public struct ComparisonRequest: Sendable {
    /// Content embeddings `[n, d]` (row `i` = item `i`).
    public var embeddings: PipelineInput<Matrix>
    /// The item catalog (ids exactly `0..<n`), or `nil`.
    public var items: PipelineInput<[ItemRecord]>?
    /// The users' histories; models train on the leave-one-out training part.
    public var sequences: PipelineInput<[UserSequence]>
    /// The schemes, the model and its budget.
    public var configuration: SchemeComparison.Configuration
    /// The directory the schemes' indexes are written to (created if needed, kept).
    public var directory: String
    /// Called with one line per step (on the calling thread).
    public var log: @Sendable (String) -> Void = { _ in }

    /// A comparison of `configuration`'s schemes on the given data.
    public init(embeddings: PipelineInput<Matrix>, items: PipelineInput<[ItemRecord]>? = nil,
                sequences: PipelineInput<[UserSequence]>, configuration: SchemeComparison.Configuration, directory: String) {
        self.embeddings = embeddings
        self.items = items
        self.sequences = sequences
        self.configuration = configuration
        self.directory = directory
    }
}

extension Pipeline {
    /// Reads the data and runs ``SchemeComparison/run(embeddings:items:sequences:configuration:directory:log:)``:
    /// one row per scheme and user-token setting, averaged over the seeds.
    ///
    /// - Throws: ``PipelineError/notADirectory(path:)`` when `directory` is a file,
    ///   ``PipelineError/fewerUsersThanCodes(sequences:users:codebookSize:)`` when runs with user
    ///   tokens have fewer users than user codes per level.
    public static func compare(_ request: ComparisonRequest) throws -> [SchemeComparison.Row] {
        let out = request.directory
        if FileSystem.exists(out) && !FileSystem.isDirectory(out) { throw PipelineError.notADirectory(path: out) }
        let matrix = try request.embeddings.load(role: "embeddings").value
        let records = try request.items?.load().value
        if let path = request.items?.path, let records { try ItemCatalogFile.validateDense(records, startingAt: 0, source: path) }
        let histories = try request.sequences.load(itemCount: matrix.rows).value
        let configuration = request.configuration
        if configuration.userTokens.contains(true), let largest = configuration.users.codebookSizes.max(), largest > histories.count {
            throw PipelineError.fewerUsersThanCodes(sequences: request.sequences.name(or: "the sequences"), users: histories.count,
                                                    codebookSize: largest)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        request.log("comparing \(configuration.schemes.count) schemes × \(configuration.userTokens.count) × \(configuration.seeds.count) seeds on \(BLASRuntime.summary)")
        return try SchemeComparison.run(embeddings: matrix, items: records, sequences: histories,
                                        configuration: configuration, directory: out, log: request.log)
    }
}
