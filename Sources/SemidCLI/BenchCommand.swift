import ArgumentParser
import Foundation
import Semid
import SemidBenchmarks

/// `semid bench`: performance measurements that are too slow or too noisy for unit tests.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (release builds; timings vary with machine load — compare ratios from one run).",
        subcommands: [DecodeBench.self, EncodeBench.self])
}

/// `semid bench decode`: constrained decoding cost on an index and on synthetic indexes.
struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Trie build time and memory, constraint cost per beam-step and decoding throughput.",
        discussion: """
            Measures the index's own IDs and synthetic unique IDs of --synthetic sizes (4 levels × 256 \
            codes by default). The table scorer returns precomputed random log-probabilities (its cost \
            is a row copy), so the per-beam-step figures are the decoder's own work; the MLP scorer \
            (64 → 128 → K, two GEMMs per level) shows throughput with a small real model.
            """)

    @Argument(help: "An index directory (optional when --synthetic is given).")
    var index: String?

    @Option(help: "Comma-separated item counts of synthetic indexes to add, e.g. 1000000,10000000.")
    var synthetic: String = ""

    @Option(help: "Levels of the synthetic indexes.")
    var levels: Int = 4

    @Option(help: "Codes per level of the synthetic indexes.")
    var codebookSize: Int = 256

    @Option(help: "Beam width.")
    var beam: Int = 20

    @Option(help: "Items per query.")
    var top: Int = 10

    @Option(help: "Queries decoded with the table scorer.")
    var queries: Int = 4000

    @Option(help: "Queries decoded with the MLP scorer.")
    var mlpQueries: Int = 1000

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    var syntheticSizes: [Int]? {
        let parts = synthetic.split(separator: ",")
        let values = parts.compactMap { Int($0.replacingOccurrences(of: "_", with: "")) }
        return values.count == parts.count && values.allSatisfy({ $0 > 0 }) ? values : nil
    }

    func validate() throws {
        if syntheticSizes == nil { throw ValidationError("--synthetic must be positive item counts separated by commas (got \(synthetic))") }
        if index == nil && (syntheticSizes ?? []).isEmpty { throw ValidationError("give an index directory, --synthetic sizes, or both") }
        if beam < 1 { throw ValidationError("--beam must be at least 1 (got \(beam))") }
        if top < 1 { throw ValidationError("--top must be at least 1 (got \(top))") }
        if top > beam { throw ValidationError("--top (\(top)) must not exceed --beam (\(beam))") }
        if queries < 1 || mlpQueries < 1 { throw ValidationError("--queries and --mlp-queries must be at least 1") }
        if queries > Self.maximumQueries || mlpQueries > Self.maximumQueries {
            throw ValidationError("--queries and --mlp-queries must be at most \(Self.maximumQueries) (got \(queries), \(mlpQueries))")
        }
        if levels < 1 || levels > IndexLimits.maximumLevels || codebookSize < 2 || codebookSize > 65_536 {
            throw ValidationError("--levels must be in 1…\(IndexLimits.maximumLevels) and --codebook-size in 2…65536")
        }
        if let large = (syntheticSizes ?? []).first(where: { $0 > Self.maximumSyntheticCodes / levels }) {
            throw ValidationError("--synthetic \(large) × --levels \(levels) is more than the \(Self.maximumSyntheticCodes) codes a synthetic index may have")
        }
    }

    /// Queries per scorer (each holds a 20-item history).
    static let maximumQueries = 1_000_000
    /// Items × levels of one synthetic index (4 bytes each, plus the trie).
    static let maximumSyntheticCodes = 400_000_000

    func run() throws {
        let configuration = DecodeBenchmark.Configuration(beamWidth: beam, topK: top, queries: queries, mlpQueries: mlpQueries)
        var results: [DecodeBenchmarkResult] = []
        if let index {
            let opened = try IndexStore.open(at: index)
            results.append(try DecodeBenchmark.run(name: (index as NSString).lastPathComponent, ids: opened.ids.values,
                                                   codebookSizes: opened.manifest.codeSizes, configuration: configuration))
        }
        for n in syntheticSizes ?? [] {
            if !json && Console.stderrIsTerminal { Console.err("synthetic \(n) × \(levels)…") }
            results.append(try DecodeBenchmark.runSynthetic(items: n, levels: levels, codebookSize: codebookSize,
                                                            configuration: configuration))
        }
        let report = DecodeBenchmarkReport(results: results)
        if json {
            Console.out(try report.json())
        } else {
            Console.out("BLAS kernel: \(BLASKernelSelection.note)")
            Console.out(report.table())
        }
    }
}

/// `semid bench encode`: residual encoding throughput against a plain `sgemm` of the same shape.
struct EncodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encoding GFLOP/s (exact nearest-centroid decisions, as semid build encodes) against one sgemm of the same shape.")

    @Option(help: "Rows encoded (one chunk of synthetic data, encoded repeatedly).")
    var rows: Int = 1_048_576

    @Option(help: "Vector dimension.")
    var dim: Int = 256

    @Option(help: "Codes per level, comma-separated.")
    var codebookSize: String = "1024,256,256"

    @Option(help: "Rows per encoding call (as semid build's chunks).")
    var chunk: Int = 65_536

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    var sizes: [Int]? {
        let parts = codebookSize.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return values.count == parts.count && !values.isEmpty && values.allSatisfy({ (2...65_536).contains($0) }) ? values : nil
    }

    func validate() throws {
        if sizes == nil { throw ValidationError("--codebook-size must be sizes in 2…65536 separated by commas (got \(codebookSize))") }
        if rows < 1 || dim < 1 || chunk < 1 { throw ValidationError("--rows, --dim and --chunk must be at least 1") }
    }

    func run() throws {
        let result = try EncodeBenchmark.run(rows: rows, dimension: dim, codebookSizes: sizes ?? [], chunkRows: chunk)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Console.out(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        Console.out("BLAS kernel: \(BLASKernelSelection.note)")
        Console.out("| rows × d | codes per level | encode | sgemm, same shape | encode / sgemm |")
        Console.out("| --- | --- | --- | --- | --- |")
        let sizes = result.codebookSizes.map(String.init).joined(separator: ", ")
        let encode = String(format: "%.1f GFLOP/s (%.2f s)", result.encodeGFLOPS, result.encodeSeconds)
        let sgemm = String(format: "%.1f GFLOP/s (%.2f s)", result.sgemmGFLOPS, result.sgemmSeconds)
        Console.out("| \(result.rows) × \(result.dimension) | \(sizes) | \(encode) | \(sgemm) | \(String(format: "%.0f%%", 100 * result.ratio)) |")
    }
}
