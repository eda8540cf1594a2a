import Foundation

/// What ``Pipeline/report(_:)`` draws.
public struct ReportRequest: Sendable {
    /// The index directories: the first, then up to ``HTMLReport/maximumIndexes`` − 1 compared with it.
    public var indexes: [String]
    /// The build's embeddings (`.npy`), to recompute per-item errors of indexes written before
    /// semid stored them.
    public var embeddings: String?
    /// How many of the largest colliding groups to list per index.
    public var groups = 10
    /// The HTML file to write.
    public var output: String
    /// Replace `output` if it exists.
    public var overwrite = false
    /// Called with progress events.
    public var progress: ProgressHandler?

    /// A request to draw `indexes` into `output`.
    public init(indexes: [String], output: String) {
        self.indexes = indexes
        self.output = output
    }
}

/// What ``Pipeline/report(_:)`` wrote.
public struct ReportResult: Sendable {
    /// Size of the HTML file in bytes.
    public var bytes: Int
    /// How many indexes it draws.
    public var indexes: Int
    /// Wall-clock seconds.
    public var seconds: Double
}

extension Pipeline {
    /// Writes one self-contained HTML file (inline CSS and SVG, no scripts) with plots of the
    /// indexes' code usage, collisions, errors and training, atomically. Its size does not grow
    /// with the number of items; `O(items · id length)` per index.
    ///
    /// - Throws: ``PipelineError/outputIsADirectory(path:)``, ``PipelineError/outputExists(path:)``.
    public static func report(_ request: ReportRequest) throws -> ReportResult {
        let out = request.output
        if FileSystem.isDirectory(out) { throw PipelineError.outputIsADirectory(path: out) }
        if FileSystem.exists(out) && !request.overwrite { throw PipelineError.outputExists(path: out) }
        let start = Date()
        let vectors = try request.embeddings.map { try HTMLReport.Embeddings(path: $0) }
        let indexes = try HTMLReport.open(request.indexes, embeddings: vectors, groupLimit: request.groups,
                                          progress: request.progress)
        let html = Array(HTMLReport.render(indexes).utf8)
        try FileSystem.writeAtomically(html, to: out)
        return ReportResult(bytes: html.count, indexes: indexes.count, seconds: Date().timeIntervalSince(start))
    }
}
