import CSemid
import Foundation
import SemidIndex
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing
@testable import SemidC

/// The build in steps of semid.h: encoding with codebooks and an index from raw codes give what
/// semid_build gives on the vectors; bad arguments give a status and a message naming them.
@Suite struct CodebookFunctionTests {
    static func options(levels: Int32, size: Int32, seed: UInt64) -> semid_codebook_options {
        var options = semid_codebook_options()
        semid_codebook_options_init(&options)
        options.levels = levels
        options.codebook_size = size
        options.seed = seed
        return options
    }

    /// The codebooks of an index built by semid_build, `[Σ K, d]` row-major.
    static func codebooks(of index: SemanticIndex) throws -> [Float] {
        let quantizer = try #require(index.quantizer as? ResidualQuantizer)
        return quantizer.codebooks.flatMap(\.values)
    }

    static func build(_ values: [Float], rows: Int, cols: Int, levels: Int32, size: Int32, seed: UInt64,
                      collisions: String, out: String) throws -> SemanticIndex {
        var options = semid_build_options()
        semid_build_options_init(&options)
        options.levels = levels
        options.codebook_size = size
        options.seed = seed
        return try collisions.withCString { policy in
            options.collisions = policy
            let status = SemidC.semid_build(values, Int64(rows), Int64(cols), nil, nil, nil, &options, out, nil)
            #expect(status == ABIStatus.ok.rawValue, "\(String(cString: SemidC.semid_last_error()))")
            return try IndexStore.open(at: out)
        }
    }

    @Test func theDefaultsAreThoseOfSemidBuild() {
        var options = semid_codebook_options()
        semid_codebook_options_init(&options)
        let kmeans = KMeans.Configuration(clusters: 256)
        #expect(options.struct_size == UInt32(MemoryLayout<semid_codebook_options>.size))
        #expect(options.levels == 3 && options.codebook_size == 256 && options.codebook_sizes == nil)
        #expect(Int(options.kmeans_iterations) == kmeans.iterations && options.kmeans_tolerance == kmeans.tolerance)
        #expect(Int(options.max_points_per_centroid) == kmeans.maxPointsPerCentroid)
        #expect(String(cString: options.kmeans_init) == "kmeans++" && options.warmup_dimensions == nil)
        #expect(Int(options.warmup_iterations) == kmeans.warmupIterations && options.warmup_tolerance == kmeans.warmupTolerance)
        #expect(Int(options.kmeans_restarts) == kmeans.restarts && Int(options.kmeans_refinement) == kmeans.refinementPasses)
        #expect(String(cString: options.collisions) == "suffix" && options.rows_per_shard == 262_144 && options.overwrite == 0)
        semid_codebook_options_init(nil)
    }

    /// Two levels of two codes in 2-d, worked out by hand.
    @Test func encodingATinyCaseByHand() {
        // Level 0: (0, 0) and (10, 0); level 1: (0, 1) and (0, -1).
        let books: [Float] = [0, 0, 10, 0, 0, 1, 0, -1]
        // (9, 2): level 0 → code 1, residual (-1, 2); level 1 → code 0 (0, 1), residual (-1, 1): error 2.
        // (0.5, -3): code 0, residual (0.5, -3); code 1, residual (0.5, -2): error 4.25.
        let x: [Float] = [9, 2, 0.5, -3]
        var options = Self.options(levels: 2, size: 2, seed: 0)
        var codes = [Int32](repeating: -1, count: 4)
        var errors = [Float](repeating: -1, count: 2)
        var levelErrors = [Float](repeating: -1, count: 4)
        #expect(SemidC.semid_encode_codebooks(books, 2, &options, x, 2, &codes, &errors, &levelErrors) == ABIStatus.ok.rawValue)
        #expect(codes == [1, 0, 0, 1])
        #expect(errors == [2, 4.25])
        // After level 0: ‖(-1, 2)‖² = 5 and ‖(0.5, -3)‖² = 9.25; after level 1: the errors.
        #expect(zip(levelErrors, [5, 2, 9.25, 4.25] as [Float]).allSatisfy { abs($0 - $1) < 1e-5 })
        // Optional outputs may be left out; zero rows is a no-op.
        #expect(SemidC.semid_encode_codebooks(books, 2, &options, x, 2, &codes, nil, nil) == ABIStatus.ok.rawValue)
        #expect(SemidC.semid_encode_codebooks(books, 2, &options, nil, 0, &codes, nil, nil) == ABIStatus.ok.rawValue)
    }

    @Test func encodingWithTheCodebooksOfABuildGivesItsCodesAndErrorsInAnyBatches() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        let rows = 700, cols = 12
        let values = SyntheticData.clusteredValues(rows: rows, cols: cols, clusters: 9, noise: 0.2, seed: 4)
        let index = try Self.build(values, rows: rows, cols: cols, levels: 3, size: 8, seed: 2, collisions: "suffix",
                                   out: directory + "/a.semid")
        let books = try Self.codebooks(of: index)
        var options = Self.options(levels: 3, size: 8, seed: 2)
        var codes = [Int32](repeating: -1, count: rows * 3)
        var errors = [Float](repeating: -1, count: rows)
        // Two uneven batches, the second first.
        let split = 333
        values.withUnsafeBufferPointer { v in
            codes.withUnsafeMutableBufferPointer { c in
                errors.withUnsafeMutableBufferPointer { e in
                    #expect(SemidC.semid_encode_codebooks(books, Int64(cols), &options, v.baseAddress! + split * cols, Int64(rows - split),
                                                          c.baseAddress! + split * 3, e.baseAddress! + split, nil) == ABIStatus.ok.rawValue)
                    #expect(SemidC.semid_encode_codebooks(books, Int64(cols), &options, v.baseAddress!, Int64(split),
                                                          c.baseAddress!, e.baseAddress!, nil) == ABIStatus.ok.rawValue)
                }
            }
        }
        #expect(codes == index.rawCodes.values)
        #expect(try ReconstructionErrors.stored(in: index) == errors)
    }

    @Test func anIndexFromCodesHasTheIDsAndFiguresOfSemidBuild() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        let rows = 900, cols = 16
        let values = SyntheticData.clusteredValues(rows: rows, cols: cols, clusters: 30, noise: 0.2, seed: 8)
        for policy in ["suffix", "none"] {
            let reference = try Self.build(values, rows: rows, cols: cols, levels: 2, size: 16, seed: 5, collisions: policy,
                                           out: directory + "/ref-\(policy).semid")
            let books = try Self.codebooks(of: reference)
            var options = Self.options(levels: 2, size: 16, seed: 5)
            var codes = [Int32](repeating: 0, count: rows * 2)
            var errors = [Float](repeating: 0, count: rows)
            var levelErrors = [Float](repeating: 0, count: rows * 2)
            #expect(SemidC.semid_encode_codebooks(books, Int64(cols), &options, values, Int64(rows), &codes, &errors,
                                                  &levelErrors) == ABIStatus.ok.rawValue)
            let variance = Matrix(rows: rows, cols: cols, values: values).totalVariance
            let report = try #require(reference.manifest.statistics.kmeans).levels.map {
                semid_level_report(iterations: Int64($0.iterations), training_points: Int64($0.trainingPoints),
                                   reseeded_clusters: Int64($0.reseededClusters), residual_mean_squared_norm: -1)
            }
            let out = directory + "/codes-\(policy).semid"
            var handle: OpaquePointer?
            let status = policy.withCString { name in
                options.collisions = name
                return SemidC.semid_build_from_codes(books, Int64(cols), codes, Int64(rows), errors, levelErrors, variance,
                                                     report, nil, nil, nil, "embeddings.parquet", &options, out, &handle)
            }
            #expect(status == ABIStatus.ok.rawValue, "\(String(cString: SemidC.semid_last_error()))")
            #expect(SemidC.semid_index_close(handle) == ABIStatus.ok.rawValue)
            let built = try IndexStore.open(at: out)
            #expect(built.ids == reference.ids && built.rawCodes == reference.rawCodes)
            // The shards of IDs, raw codes and errors are the same bytes.
            for file in ["ids-00000.zst", "raw_codes-00000.zst", "reconstruction_errors-00000.zst"] {
                #expect(FileManager.default.contents(atPath: out + "/" + file) == FileManager.default.contents(atPath: directory + "/ref-\(policy).semid/" + file), "\(file)")
            }
            // Parameters, the k-means report (residual norms over all items) and the reconstruction
            // figures are those of the in-memory build.
            #expect(built.manifest.parameters == reference.manifest.parameters)
            #expect(built.manifest.statistics == reference.manifest.statistics)
            #expect(built.manifest.batches[0].reconstruction == reference.manifest.batches[0].reconstruction)
            let input = built.manifest.batches[0].inputs[0]
            #expect(input.file == "embeddings.parquet" && input.rows == rows && input.columns == cols && input.bytes == rows * cols * 4)
            #expect(input.xxh64 == "")
        }
    }

    @Test func badArgumentsOfTheStepsGiveStatusesAndMessages() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        let books: [Float] = [0, 0, 10, 0, 0, 1, 0, -1]
        let x: [Float] = [9, 2, 0.5, -3]
        var codes = [Int32](repeating: 0, count: 4)
        var options = Self.options(levels: 2, size: 2, seed: 0)
        func expectInvalid(_ status: Int32, _ fragment: String, _ expected: ABIStatus = .invalidArgument,
                           sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(status == expected.rawValue, sourceLocation: sourceLocation)
            let message = String(cString: SemidC.semid_last_error())
            #expect(message.contains(fragment), "\(message)", sourceLocation: sourceLocation)
        }
        var uninitialised = semid_codebook_options()
        expectInvalid(SemidC.semid_encode_codebooks(books, 2, &uninitialised, x, 2, &codes, nil, nil), "semid_codebook_options_init")
        expectInvalid(SemidC.semid_encode_codebooks(nil, 2, &options, x, 2, &codes, nil, nil), "codebooks is a null pointer")
        expectInvalid(SemidC.semid_encode_codebooks(books, 2, &options, nil, 2, &codes, nil, nil), "vectors is a null pointer")
        expectInvalid(SemidC.semid_encode_codebooks(books, 2, &options, x, 2, nil, nil, nil), "out_codes is a null pointer")
        expectInvalid(SemidC.semid_encode_codebooks(books, 0, &options, x, 2, &codes, nil, nil), "dimension is 0")
        expectInvalid(SemidC.semid_encode_codebooks(books, 2, &options, x, -1, &codes, nil, nil), "rows is -1")
        let nan: [Float] = [9, .nan, 0, 0]
        expectInvalid(SemidC.semid_encode_codebooks(books, 2, &options, nan, 2, &codes, nil, nil), "vectors row 0, column 1 is not finite")
        let huge: [Float] = [9, 0, 0, 2e12]
        expectInvalid(SemidC.semid_encode_codebooks(books, 2, &options, huge, 2, &codes, nil, nil), "vectors row 1, column 1")
        let badBooks: [Float] = [0, 0, 10, 0, 0, .infinity, 0, -1]
        expectInvalid(SemidC.semid_encode_codebooks(badBooks, 2, &options, x, 2, &codes, nil, nil), "level 1 code 0, column 1 is not finite")
        for (field, change) in [("options.levels", { (o: inout semid_codebook_options) in o.levels = 0 }),
                                ("options.codebook_size", { $0.codebook_size = 1 }),
                                ("options.kmeans_iterations", { $0.kmeans_iterations = 0 }),
                                ("options.kmeans_tolerance", { $0.kmeans_tolerance = -1 }),
                                ("options.max_points_per_centroid", { $0.max_points_per_centroid = -1 }),
                                ("options.warmup_dimension_count", { $0.warmup_dimension_count = 2 }),
                                ("options.kmeans_restarts", { $0.kmeans_restarts = 0 }),
                                ("options.kmeans_refinement", { $0.kmeans_refinement = -1 }),
                                ("options.rows_per_shard", { $0.rows_per_shard = 0 })] {
            var bad = options
            change(&bad)
            expectInvalid(SemidC.semid_encode_codebooks(books, 2, &bad, x, 2, &codes, nil, nil), field)
        }
        var bad = options
        "fast".withCString { name in
            bad.kmeans_init = name
            expectInvalid(SemidC.semid_encode_codebooks(books, 2, &bad, x, 2, &codes, nil, nil), "options.kmeans_init is \"fast\"")
        }
        bad = options
        let dims: [Int32] = [4, 2]
        dims.withUnsafeBufferPointer { d in
            bad.warmup_dimensions = d.baseAddress
            bad.warmup_dimension_count = 2
            expectInvalid(SemidC.semid_encode_codebooks(books, 2, &bad, x, 2, &codes, nil, nil), "positive and increasing")
        }

        // semid_build_from_codes.
        let errors: [Float] = [2, 4.25]
        let out = directory + "/x.semid"
        func fromCodes(_ codes: [Int32], _ errors: [Float], variance: Double = 1, options o: inout semid_codebook_options,
                       out: String = out) -> Int32 {
            SemidC.semid_build_from_codes(books, 2, codes, 2, errors, nil, variance, nil, nil, nil, nil, nil, &o, out, nil)
        }
        "sinkhorn".withCString { name in
            var sinkhorn = options
            sinkhorn.collisions = name
            expectInvalid(fromCodes([1, 0, 0, 1], errors, options: &sinkhorn), "needs the vectors")
        }
        "fifo".withCString { name in
            var unknown = options
            unknown.collisions = name
            expectInvalid(fromCodes([1, 0, 0, 1], errors, options: &unknown), "options.collisions is \"fifo\"")
        }
        expectInvalid(fromCodes([1, 0, 2, 1], errors, options: &options), "code 2")
        expectInvalid(fromCodes([1, 0, 0, 1], [2, -1], options: &options), "item 1 is -1.0")
        expectInvalid(fromCodes([1, 0, 0, 1], errors, variance: .nan, options: &options), "total variance")
        expectInvalid(SemidC.semid_build_from_codes(books, 2, [1, 0, 0, 1], 0, errors, nil, 1, nil, nil, nil, nil, nil,
                                                    &options, out, nil), "items is 0")
        expectInvalid(SemidC.semid_build_from_codes(books, 2, nil, 2, errors, nil, 1, nil, nil, nil, nil, nil,
                                                    &options, out, nil), "raw_codes is a null pointer")
        expectInvalid(SemidC.semid_build_from_codes(books, 2, [1, 0, 0, 1], 2, nil, nil, 1, nil, nil, nil, nil, nil,
                                                    &options, out, nil), "item_errors is a null pointer")
        expectInvalid(SemidC.semid_build_from_codes(books, 2, [1, 0, 0, 1], 2, errors, nil, 1, nil, "/nonexistent/items.jsonl",
                                                    nil, nil, nil, &options, out, nil), "items file not found", .notFound)
        #expect(!FileManager.default.fileExists(atPath: out))
        // A working call, then the output exists; and nothing but an index is replaced.
        #expect(fromCodes([1, 0, 0, 1], errors, options: &options) == ABIStatus.ok.rawValue)
        expectInvalid(fromCodes([1, 0, 0, 1], errors, options: &options), "exists", .exists)
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
        options.overwrite = 1
        expectInvalid(fromCodes([1, 0, 0, 1], errors, options: &options, out: directory + "/file"), "is not a semid index")
        #expect(fromCodes([0, 1, 1, 0], errors, options: &options) == ABIStatus.ok.rawValue)
        #expect(try IndexStore.open(at: out).rawCodes.values == [0, 1, 1, 0])
    }

    /// The four steps on a catalog large enough that every level samples (16 rows per code):
    /// the codebooks, IDs and manifest figures of the in-memory build, bit for bit.
    @Test func theFourStepsGiveTheInMemoryBuild() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        let rows = 1_000, cols = 12
        let values = SyntheticData.clusteredValues(rows: rows, cols: cols, clusters: 40, noise: 0.2, seed: 21)
        var configuration = BuildConfiguration(levels: 3, codebookSize: 8, collisionPolicy: .suffix, seed: 9)
        configuration.kmeans.maxPointsPerCentroid = 16
        let reference = try IndexBuilder.build(embeddings: Matrix(rows: rows, cols: cols, values: values), items: nil,
                                               inputs: [], configuration: configuration)
        var options = Self.options(levels: 3, size: 8, seed: 9)
        options.max_points_per_centroid = 16

        var needed: Int64 = 0
        #expect(SemidC.semid_training_rows(Int64(rows), &options, nil, 0, &needed) == ABIStatus.bufferTooSmall.rawValue)
        var sampled = [Int64](repeating: -1, count: Int(needed))
        #expect(SemidC.semid_training_rows(Int64(rows), &options, &sampled, needed, &needed) == ABIStatus.ok.rawValue)
        #expect(sampled.count < rows && sampled.count >= 3 * 8 * 16 / 2, "training should read a sample (\(sampled.count) of \(rows))")
        #expect(zip(sampled, sampled.dropFirst()).allSatisfy { $0 < $1 })
        let sample = sampled.flatMap { values[Int($0) * cols ..< (Int($0) + 1) * cols] }

        var books = [Float](repeating: .nan, count: 3 * 8 * cols)
        var report = [semid_level_report](repeating: semid_level_report(), count: 3)
        #expect(SemidC.semid_train_codebooks(sample, Int64(sampled.count), Int64(cols), sampled, Int64(rows), &options,
                                             &books, Int64(books.count), &report) == ABIStatus.ok.rawValue,
                "\(String(cString: SemidC.semid_last_error()))")
        let quantizer = try #require(reference.index.quantizer as? ResidualQuantizer)
        #expect(books == quantizer.codebooks.flatMap(\.values))
        let kmeans = try #require(reference.index.manifest.statistics.kmeans)
        #expect(report.map(\.training_points) == kmeans.levels.map { Int64($0.trainingPoints) })
        #expect(report.map(\.iterations) == kmeans.levels.map { Int64($0.iterations) })

        var codes = [Int32](repeating: 0, count: rows * 3)
        var errors = [Float](repeating: 0, count: rows)
        var levelErrors = [Float](repeating: 0, count: rows * 3)
        #expect(SemidC.semid_encode_codebooks(books, Int64(cols), &options, values, Int64(rows), &codes, &errors,
                                              &levelErrors) == ABIStatus.ok.rawValue)
        let out = directory + "/steps.semid"
        let variance = Matrix(rows: rows, cols: cols, values: values).totalVariance
        #expect(SemidC.semid_build_from_codes(books, Int64(cols), codes, Int64(rows), errors, levelErrors, variance, report,
                                              nil, nil, nil, nil, &options, out, nil) == ABIStatus.ok.rawValue,
                "\(String(cString: SemidC.semid_last_error()))")
        let built = try IndexStore.open(at: out)
        #expect(built.ids == reference.index.ids)
        #expect(built.manifest.parameters == reference.index.manifest.parameters)
        #expect(built.manifest.statistics == reference.index.manifest.statistics)
        #expect(built.manifest.batches[0].reconstruction == reference.index.manifest.batches[0].reconstruction)

        // A sample that misses a training row, rows out of order, a wrong codebook size.
        func expectInvalid(_ status: Int32, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(status == ABIStatus.invalidArgument.rawValue, sourceLocation: sourceLocation)
            let message = String(cString: SemidC.semid_last_error())
            #expect(message.contains(fragment), "\(message)", sourceLocation: sourceLocation)
        }
        expectInvalid(SemidC.semid_train_codebooks(sample, Int64(sampled.count - 1), Int64(cols), Array(sampled.dropLast()),
                                                   Int64(rows), &options, &books, Int64(books.count), nil), "row")
        var shuffled = sampled
        shuffled.swapAt(0, 1)
        expectInvalid(SemidC.semid_train_codebooks(sample, Int64(sampled.count), Int64(cols), shuffled, Int64(rows), &options,
                                                   &books, Int64(books.count), nil), "rows[1] is \(sampled[0])")
        expectInvalid(SemidC.semid_train_codebooks(sample, Int64(sampled.count), Int64(cols), sampled, Int64(rows), &options,
                                                   &books, Int64(books.count - 1), nil), "codebook_values is")
        expectInvalid(SemidC.semid_training_rows(4, &options, nil, 0, &needed), "4")
    }
}
