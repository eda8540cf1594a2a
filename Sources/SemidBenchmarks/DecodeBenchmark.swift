import Dispatch
import Foundation
import SemidDecoding
import SemidMath

/// The library side of `semid bench decode`: trie build and reload time, memory, the decoder's
/// own cost per beam-step, and decoding throughput with a trivial and a small MLP scorer.
public enum DecodeBenchmark {
    /// What to measure and how much.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Beam width `B`.
        public var beamWidth: Int
        /// Items returned per query.
        public var topK: Int
        /// Queries decoded with the table scorer (throughput and constraint cost).
        public var queries: Int
        /// Queries decoded with the MLP scorer.
        public var mlpQueries: Int
        /// Items per random history.
        public var historyLength: Int
        /// Histories per scorer call.
        public var queriesPerScorerCall: Int
        /// Seed of histories and scorers.
        public var seed: UInt64

        /// Defaults: `B = 20`, `K = 10`, 4000 table-scorer and 1000 MLP queries of 20 items, 8 per call.
        public init(beamWidth: Int = 20, topK: Int = 10, queries: Int = 4000, mlpQueries: Int = 1000,
                    historyLength: Int = 20, queriesPerScorerCall: Int = 8, seed: UInt64 = 1) {
            self.beamWidth = beamWidth
            self.topK = topK
            self.queries = queries
            self.mlpQueries = mlpQueries
            self.historyLength = historyLength
            self.queriesPerScorerCall = queriesPerScorerCall
            self.seed = seed
        }
    }

    /// Benchmarks the index `ids` (`[n, L]` row-major) named `name`.
    public static func run(name: String, ids: [Int32], codebookSizes: [Int],
                           configuration: Configuration = Configuration()) throws -> DecodeBenchmarkResult {
        let config = configuration
        // Build (best of up to 3 runs within ~3 s) and reload from the flat arrays.
        var trie = try CodeTrie(ids: ids, codebookSizes: codebookSizes)
        var buildSeconds = Double.infinity
        var spent = 0.0
        for _ in 0..<3 where spent < 3 {
            let (t, s) = try timed { try CodeTrie(ids: ids, codebookSizes: codebookSizes) }
            trie = t
            buildSeconds = min(buildSeconds, s)
            spent += s
        }
        let arrays = trie.arrays
        var reloadSeconds = Double.infinity
        spent = 0
        for _ in 0..<3 where spent < 3 {
            let (_, s) = try timed { try CodeTrie(arrays: arrays) }
            reloadSeconds = min(reloadSeconds, s)
            spent += s
        }

        var rng = SeededGenerator(seed: config.seed)
        let n = trie.itemCount
        let histories = (0..<max(config.queries, config.mlpQueries)).map { _ in
            (0..<max(1, config.historyLength)).map { _ in Int32(rng.nextInt(below: n)) }
        }
        func searcher(parallel: Bool) throws -> ConstrainedBeamSearch {
            try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
                beamWidth: config.beamWidth, topK: config.topK, queriesPerScorerCall: config.queriesPerScorerCall,
                parallel: parallel, collectStatistics: true))
        }
        let table = TableScorer(codebookSizes: codebookSizes, seed: config.seed)
        let mlp = RandomMLPScorer(codebookSizes: codebookSizes, seed: config.seed)
        let tableHistories = Array(histories.prefix(config.queries))
        let mlpHistories = Array(histories.prefix(config.mlpQueries))

        // Warm up, then the decoder's own cost on one core (no contention between workers),
        // best of three runs (other processes share the cores).
        _ = try searcher(parallel: false).search(histories: Array(tableHistories.prefix(64)), scorer: table)
        var stats = SearchStatistics(levels: trie.levels)
        var bestCost = Double.infinity
        for _ in 0..<3 {
            let run = try searcher(parallel: false).search(histories: tableHistories, scorer: table)
            if let s = run.statistics, s.constraintNanosPerBeamStep < bestCost {
                bestCost = s.constraintNanosPerBeamStep
                stats = s
            }
        }

        let tableThroughput = try throughput(searcher(parallel: true), tableHistories, table, runs: 3)
        _ = try searcher(parallel: true).search(histories: Array(mlpHistories.prefix(64)), scorer: mlp)
        let mlpThroughput = try throughput(searcher(parallel: true), mlpHistories, mlp, runs: 2)

        return DecodeBenchmarkResult(
            name: name, items: n, codebookSizes: codebookSizes, beamWidth: config.beamWidth, topK: config.topK,
            buildSeconds: buildSeconds, reloadSeconds: reloadSeconds, trieBytes: trie.memoryBytes,
            bytesPerItem: trie.bytesPerItem, trieMemory: trie.memoryBreakdown, nodeCounts: trie.nodeCounts, maxFanout: trie.maxFanout,
            denseLevels: trie.denseLevels,
            lookupNanosPerBeamStep: stats.lookupNanosPerBeamStep,
            constraintNanosPerBeamStep: stats.constraintNanosPerBeamStep,
            constraintNanosPerBeamStepByLevel: stats.constraintNanosPerBeamStepByLevel,
            candidatesPerBeamStep: stats.beamSteps == 0 ? 0 : Double(stats.candidates) / Double(stats.beamSteps),
            nanosPerCandidate: stats.candidates == 0 ? 0 : Double(stats.searchNanoseconds) / Double(stats.candidates),
            tableScorer: tableThroughput, mlpScorer: mlpThroughput)
    }

    /// Benchmarks a ``SyntheticIDs`` index of `items × levels` codes of `codebookSize`.
    public static func runSynthetic(items: Int, levels: Int = 4, codebookSize: Int = 256,
                                    configuration: Configuration = Configuration()) throws -> DecodeBenchmarkResult {
        let ids = try SyntheticIDs.make(items: items, levels: levels, codebookSize: codebookSize, seed: configuration.seed)
        return try run(name: "synthetic \(DecodeBenchmarkReport.count(items))×\(levels)",
                       ids: ids, codebookSizes: [Int](repeating: codebookSize, count: levels),
                       configuration: configuration)
    }

    /// The fastest of `runs` decodes of `histories`.
    static func throughput<S: NextTokenScorer>(_ search: ConstrainedBeamSearch, _ histories: [[Int32]], _ scorer: S,
                                               runs: Int) throws -> DecodeThroughput {
        var (results, seconds) = try timed { try search.search(histories: histories, scorer: scorer) }
        for _ in 1..<max(1, runs) {
            let (r, s) = try timed { try search.search(histories: histories, scorer: scorer) }
            if s < seconds { (results, seconds) = (r, s) }
        }
        let stats = results.statistics ?? SearchStatistics(levels: search.trie.levels)
        let cpu = Double(stats.scorerNanoseconds + stats.searchNanoseconds)
        return DecodeThroughput(
            queries: histories.count, seconds: seconds,
            queriesPerSecond: seconds > 0 ? Double(histories.count) / seconds : 0,
            cpuNanosPerBeamStep: stats.beamSteps == 0 ? 0 : cpu / Double(stats.beamSteps),
            scorerShare: cpu > 0 ? Double(stats.scorerNanoseconds) / cpu : 0)
    }

    static func timed<R>(_ body: () throws -> R) rethrows -> (R, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let r = try body()
        return (r, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// Decoding speed with one scorer.
public struct DecodeThroughput: Codable, Sendable, Equatable {
    /// Queries decoded.
    public var queries: Int
    /// Wall-clock seconds for all of them (all cores; fastest of a few runs).
    public var seconds: Double
    /// `queries / seconds`.
    public var queriesPerSecond: Double
    /// CPU nanoseconds (scorer + decoder, summed over workers) per beam-step.
    public var cpuNanosPerBeamStep: Double
    /// Fraction of that CPU time spent in the scorer.
    public var scorerShare: Double
}

/// The measurements for one index.
public struct DecodeBenchmarkResult: Codable, Sendable, Equatable {
    /// Label, e.g. `"synthetic 1M×4"` or the index's name.
    public var name: String
    /// Items `n`.
    public var items: Int
    /// `K_l` per level.
    public var codebookSizes: [Int]
    /// Beam width used.
    public var beamWidth: Int
    /// Items returned per query.
    public var topK: Int
    /// Seconds to build the trie from the ID matrix (best run).
    public var buildSeconds: Double
    /// Seconds to re-create it from its stored flat arrays with full validation (best run;
    /// excludes reading and decompressing them).
    public var reloadSeconds: Double
    /// Bytes held by the trie.
    public var trieBytes: Int
    /// `trieBytes / items`.
    public var bytesPerItem: Double
    /// ``CodeTrie/memoryBreakdown``: bytes per array.
    public var trieMemory: [String: Int]
    /// Nodes per depth `0...L`.
    public var nodeCounts: [Int]
    /// Largest fan-out per level.
    public var maxFanout: [Int]
    /// Levels with bitsets.
    public var denseLevels: [Bool]
    /// The constraint lookup proper, CPU nanoseconds per beam-step: finding the beam's allowed
    /// codes in the trie (child range and first cache line of codes/bitset/items); one core.
    public var lookupNanosPerBeamStep: Double
    /// The decoder's own CPU nanoseconds per beam-step: lookup, masking to the trie's children,
    /// top-B selection and bookkeeping; scorer excluded; one core, table scorer, best of 3.
    public var constraintNanosPerBeamStep: Double
    /// The same per level, `[L]`.
    public var constraintNanosPerBeamStepByLevel: [Double]
    /// Valid children examined per beam-step (mean fan-out seen by the beams). It grows with
    /// the catalog for a fixed `L × K` (a denser trie), and the search cost with it.
    public var candidatesPerBeamStep: Double
    /// The decoder's own nanoseconds per valid child examined.
    public var nanosPerCandidate: Double
    /// Throughput with ``TableScorer`` (one row copy per beam).
    public var tableScorer: DecodeThroughput
    /// Throughput with ``RandomMLPScorer`` (64 → 128 → K, two GEMMs per level).
    public var mlpScorer: DecodeThroughput
}

/// Several ``DecodeBenchmarkResult``s with the machine facts that explain them, printable as a
/// table or JSON.
public struct DecodeBenchmarkReport: Codable, Sendable, Equatable {
    /// ``BLASRuntime/summary``, e.g. `"OpenBLAS … core SkylakeX, 2 threads"`.
    public var blas: String
    /// The OpenBLAS kernel (`openblas_get_corename`).
    public var blasCore: String
    /// Whether that kernel is a generic fallback on this CPU.
    public var blasIsGenericFallback: Bool
    /// The `OPENBLAS_CORETYPE` that would suit this CPU, when known.
    public var recommendedCoreType: String?
    /// Decoding workers (cores).
    public var workers: Int
    /// One entry per index.
    public var results: [DecodeBenchmarkResult]

    /// A report over `results`, with the current BLAS facts.
    public init(results: [DecodeBenchmarkResult]) {
        blas = BLASRuntime.summary
        blasCore = BLASRuntime.coreName
        blasIsGenericFallback = BLASRuntime.isGenericFallback
        recommendedCoreType = BLASRuntime.recommendedCoreType
        workers = Parallel.workerCount
        self.results = results
    }

    /// Header lines: BLAS, kernel advice, workers.
    public var header: String {
        var lines = ["semid bench decode — \(blas); \(workers) decoding worker\(workers == 1 ? "" : "s")"]
        if blasIsGenericFallback, let better = recommendedCoreType, better != blasCore {
            lines.append("note: OpenBLAS uses its generic \(blasCore) kernel; run with OPENBLAS_CORETYPE=\(better) for the MLP scorer's GEMMs")
        }
        return lines.joined(separator: "\n")
    }

    /// A fixed-width table, one row per index, with the header above.
    public func table() -> String {
        let columns = ["index", "items", "levels×K", "build s", "reload s", "B/item", "lookup ns", "ns/beam-step", "per level", "cand/step", "ns/cand", "table q/s", "MLP q/s", "MLP scorer %"]
        var rows: [[String]] = []
        for r in results {
            let sizes = Set(r.codebookSizes).count == 1 ? "\(r.codebookSizes.count)×\(r.codebookSizes[0])" : r.codebookSizes.map(String.init).joined(separator: ",")
            rows.append([
                r.name, DecodeBenchmarkReport.count(r.items), sizes,
                String(format: "%.3f", r.buildSeconds), String(format: "%.3f", r.reloadSeconds),
                String(format: "%.1f", r.bytesPerItem), String(format: "%.1f", r.lookupNanosPerBeamStep),
                String(format: "%.1f", r.constraintNanosPerBeamStep),
                r.constraintNanosPerBeamStepByLevel.map { String(format: "%.0f", $0) }.joined(separator: "/"),
                String(format: "%.1f", r.candidatesPerBeamStep), String(format: "%.2f", r.nanosPerCandidate),
                String(format: "%.0f", r.tableScorer.queriesPerSecond), String(format: "%.0f", r.mlpScorer.queriesPerSecond),
                String(format: "%.0f", 100 * r.mlpScorer.scorerShare),
            ])
        }
        var widths = columns.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        var out = [header, line(columns), line(widths.map { String(repeating: "-", count: $0) })]
        out.append(contentsOf: rows.map(line))
        if let first = results.first {
            out.append("beam \(first.beamWidth), top-\(first.topK). lookup ns = finding a beam's allowed codes in the trie; ns/beam-step = all decoder work per beam per level (lookup, masking, top-B selection) without the scorer, one core; cand/step = valid children per beam-step; q/s on all cores.")
        }
        return out.joined(separator: "\n")
    }

    /// Pretty-printed JSON of the whole report.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// `12k`, `1M`, `10M`-style counts.
    static func count(_ n: Int) -> String {
        if n >= 1_000_000 && n % 1_000_000 == 0 { return "\(n / 1_000_000)M" }
        if n >= 1_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
        if n >= 1000 && n % 1000 == 0 { return "\(n / 1000)k" }
        if n >= 1000 { return String(format: "%.1fk", Double(n) / 1e3) }
        return "\(n)"
    }
}
