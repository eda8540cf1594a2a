import CSemid
import Foundation
import SemidIndex
import SemidMath
import SemidQuantization
import SemidStorage

// The build in steps of semid.h (semid_codebook_options ... semid_build_from_codes): the training
// rows, codebooks trained on them, encoding with codebooks, an index from raw codes. A Spark job
// (python/src/semid/spark.py) runs the encoding on its executors and the rest on the driver.

/// Static C strings of the options' defaults (never freed).
enum CodebookDefaults {
    nonisolated(unsafe) static let kmeansInit: UnsafeMutablePointer<CChar> = strdup(KMeans.Initialization.kMeansPlusPlus.rawValue)!
    nonisolated(unsafe) static let collisions: UnsafeMutablePointer<CChar> = strdup(CollisionPolicy.suffix.name)!
}

/// Fills `semid_codebook_options` with the defaults of `semid build` (taken from the library's
/// configurations, so they cannot drift apart).
@_cdecl("semid_codebook_options_init")
public func semid_codebook_options_init(_ options: UnsafeMutablePointer<semid_codebook_options>?) {
    guard let options else { return }
    let build = BuildConfiguration(levels: 3, codebookSize: 256)
    let kmeans = build.kmeans
    var o = semid_codebook_options()
    o.struct_size = UInt32(MemoryLayout<semid_codebook_options>.size)
    o.levels = Int32(build.levels)
    o.codebook_size = Int32(build.codebookSizes[0])
    o.codebook_sizes = nil
    o.seed = build.seed
    o.kmeans_iterations = Int32(kmeans.iterations)
    o.kmeans_tolerance = kmeans.tolerance
    o.max_points_per_centroid = Int32(kmeans.maxPointsPerCentroid)
    o.kmeans_init = UnsafePointer(CodebookDefaults.kmeansInit)
    o.warmup_dimensions = nil
    o.warmup_dimension_count = 0
    o.warmup_iterations = Int32(kmeans.warmupIterations)
    o.warmup_tolerance = kmeans.warmupTolerance
    o.kmeans_restarts = Int32(kmeans.restarts)
    o.kmeans_refinement = Int32(kmeans.refinementPasses)
    o.collisions = UnsafePointer(CodebookDefaults.collisions)
    o.rows_per_shard = Int64(build.rowsPerShard)
    o.overwrite = 0
    o.progress = nil
    o.progress_context = nil
    options.pointee = o
}

/// `semid_codebook_options` read and checked: the RQ-KMeans settings of the four steps.
struct CodebookSettings {
    /// Codes per level, `L` values.
    var codebookSizes: [Int]
    /// Build settings (method rq-kmeans, content vectors).
    var configuration: BuildConfiguration
    var overwrite: Bool
    var progress: ProgressHandler?

    /// Quantizer levels `L`.
    var levels: Int { codebookSizes.count }
    /// Codebook rows over all levels, `Σ K_l`.
    var totalCodes: Int { codebookSizes.reduce(0, +) }

    init(_ pointer: UnsafePointer<semid_codebook_options>?) throws {
        var options = semid_codebook_options()
        if let pointer {
            guard pointer.pointee.struct_size == UInt32(MemoryLayout<semid_codebook_options>.size) else {
                throw ABIError.invalid("options.struct_size is \(pointer.pointee.struct_size), expected \(MemoryLayout<semid_codebook_options>.size): call semid_codebook_options_init() first")
            }
            options = pointer.pointee
        } else {
            semid_codebook_options_init(&options)
        }
        let sizes = try perLevelCodebookSizes(levels: options.levels, codebookSize: options.codebook_size, list: options.codebook_sizes)
        codebookSizes = sizes

        var kmeans = KMeans.Configuration(clusters: sizes[0])
        guard options.kmeans_iterations >= 1 else {
            throw ABIError.invalid("options.kmeans_iterations is \(options.kmeans_iterations); it must be at least 1")
        }
        kmeans.iterations = Int(options.kmeans_iterations)
        guard options.kmeans_tolerance >= 0, options.kmeans_tolerance.isFinite else {
            throw ABIError.invalid("options.kmeans_tolerance is \(options.kmeans_tolerance); it must be a finite number ≥ 0")
        }
        kmeans.tolerance = options.kmeans_tolerance
        guard options.max_points_per_centroid >= 0 else {
            throw ABIError.invalid("options.max_points_per_centroid is \(options.max_points_per_centroid); it must be 0 (all rows) or more")
        }
        kmeans.maxPointsPerCentroid = Int(options.max_points_per_centroid)
        let initName = options.kmeans_init.map { String(cString: $0) } ?? KMeans.Initialization.kMeansPlusPlus.rawValue
        guard let initialization = KMeans.Initialization(rawValue: initName) else {
            throw ABIError.invalid("options.kmeans_init is \"\(initName)\"; it must be kmeans++ or random")
        }
        kmeans.initialization = initialization
        if let dims = options.warmup_dimensions {
            guard options.warmup_dimension_count >= 0, options.warmup_dimension_count <= 64 else {
                throw ABIError.invalid("options.warmup_dimension_count is \(options.warmup_dimension_count); it must be in 0...64")
            }
            let values = (0..<Int(options.warmup_dimension_count)).map { Int(dims[$0]) }
            guard values.allSatisfy({ $0 > 0 }), zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw ABIError.invalid("options.warmup_dimensions are \(values); they must be positive and increasing")
            }
            kmeans.warmupDimensions = values
        } else {
            guard options.warmup_dimension_count == 0 else {
                throw ABIError.invalid("options.warmup_dimensions is a null pointer but options.warmup_dimension_count is \(options.warmup_dimension_count)")
            }
            kmeans.warmupDimensions = nil
        }
        guard options.warmup_iterations >= 0 else {
            throw ABIError.invalid("options.warmup_iterations is \(options.warmup_iterations); it must be 0 or more")
        }
        kmeans.warmupIterations = Int(options.warmup_iterations)
        guard options.warmup_tolerance >= 0, options.warmup_tolerance.isFinite else {
            throw ABIError.invalid("options.warmup_tolerance is \(options.warmup_tolerance); it must be a finite number ≥ 0")
        }
        kmeans.warmupTolerance = options.warmup_tolerance
        guard options.kmeans_restarts >= 1 else {
            throw ABIError.invalid("options.kmeans_restarts is \(options.kmeans_restarts); it must be at least 1")
        }
        kmeans.restarts = Int(options.kmeans_restarts)
        guard options.kmeans_refinement >= 0 else {
            throw ABIError.invalid("options.kmeans_refinement is \(options.kmeans_refinement); it must be 0 or more")
        }
        kmeans.refinementPasses = Int(options.kmeans_refinement)

        let policyName = options.collisions.map { String(cString: $0) } ?? CollisionPolicy.suffix.name
        guard let policy = CollisionPolicy(name: policyName) else {
            throw ABIError.invalid("options.collisions is \"\(policyName)\"; it must be suffix or none")
        }
        var configuration = BuildConfiguration(codebookSizes: sizes, collisionPolicy: policy, seed: options.seed)
        configuration.kmeans = kmeans
        configuration.rowsPerShard = try count(options.rows_per_shard, "options.rows_per_shard", minimum: 1)
        self.configuration = configuration
        overwrite = options.overwrite != 0
        progress = progressHandler(options.progress, options.progress_context)
    }

    /// The residual k-means settings.
    var residualKMeans: ResidualKMeans.Configuration {
        ResidualKMeans.Configuration(codebookSizes: codebookSizes, kmeans: configuration.kmeans)
    }

    /// The codebooks at `pointer`, float32 `[Σ K_l, dimension]`, as a quantizer; every value finite.
    func quantizer(_ pointer: UnsafePointer<Float>?, dimension: Int64) throws -> ResidualQuantizer {
        let d = try count(dimension, "dimension", minimum: 1)
        let base = try required(pointer, "codebooks")
        var books: [Matrix] = []
        var offset = 0
        for (level, size) in codebookSizes.enumerated() {
            let values = Array(UnsafeBufferPointer(start: base + offset, count: try product(size, d, "codebook size × dimension")))
            let book = Matrix(rows: size, cols: d, values: values)
            if let bad = book.firstNonFinite() {
                throw ABIError.invalid("codebooks: level \(level) code \(bad.row), column \(bad.column) is not finite")
            }
            books.append(book)
            offset += values.count
        }
        return try ResidualQuantizer(codebooks: books)
    }
}

/// Raw codes (and optionally each row's errors) of vectors under codebooks.
@_cdecl("semid_encode_codebooks")
public func semid_encode_codebooks(_ codebooks: UnsafePointer<Float>?, _ dimension: Int64,
                                   _ options: UnsafePointer<semid_codebook_options>?, _ vectors: UnsafePointer<Float>?,
                                   _ rows: Int64, _ outCodes: UnsafeMutablePointer<Int32>?,
                                   _ outErrors: UnsafeMutablePointer<Float>?,
                                   _ outLevelErrors: UnsafeMutablePointer<Float>?) -> Int32 {
    abiCall {
        let settings = try CodebookSettings(options)
        let quantizer = try settings.quantizer(codebooks, dimension: dimension)
        let n = try count(rows, "rows"), d = quantizer.inputDimension
        let total = try product(n, d, "rows × dimension")
        guard n > 0 else { return }
        let codesOut = try required(outCodes, "out_codes")
        let x = Matrix(rows: n, cols: d, values: Array(UnsafeBufferPointer(start: try required(vectors, "vectors"), count: total)))
        try checkEmbeddings(x, name: "vectors")
        let (codes, _, levelErrors) = try quantizer.encodeWithResiduals(x)
        codes.values.withUnsafeBufferPointer { codesOut.update(from: $0.baseAddress!, count: codes.values.count) }
        if let outErrors {
            let errors = ReconstructionErrors.squaredErrors(of: x, reconstruction: try quantizer.reconstruct(codes))
            errors.withUnsafeBufferPointer { outErrors.update(from: $0.baseAddress!, count: n) }
        }
        if let outLevelErrors {
            for (level, errors) in levelErrors.enumerated() {
                for i in 0..<n { outLevelErrors[i * settings.levels + level] = errors[i] }
            }
        }
    }
}

/// Writes an index from every item's raw codes.
@_cdecl("semid_build_from_codes")
public func semid_build_from_codes(_ codebooks: UnsafePointer<Float>?, _ dimension: Int64,
                                   _ rawCodes: UnsafePointer<Int32>?, _ items: Int64,
                                   _ itemErrors: UnsafePointer<Float>?, _ levelErrors: UnsafePointer<Float>?,
                                   _ totalVariance: Double, _ trainingReport: UnsafePointer<semid_level_report>?,
                                   _ itemsPath: UnsafePointer<CChar>?, _ sourceIDs: UnsafePointer<UnsafePointer<CChar>?>?,
                                   _ titles: UnsafePointer<UnsafePointer<CChar>?>?, _ inputName: UnsafePointer<CChar>?,
                                   _ options: UnsafePointer<semid_codebook_options>?, _ outPath: UnsafePointer<CChar>?,
                                   _ outIndex: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    abiCall {
        let out = try string(outPath, "out_path")
        let settings = try CodebookSettings(options)
        try checkOutput(out, overwrite: settings.overwrite)
        if case .sinkhorn = settings.configuration.collisionPolicy {
            throw ABIError.invalid("options.collisions is sinkhorn, which re-assigns last-level codes by the items' distances to the codebook and so needs the vectors: use suffix or none here, or semid_build on the embeddings")
        }
        let quantizer = try settings.quantizer(codebooks, dimension: dimension)
        let n = try count(items, "items", minimum: 1), levels = settings.levels, d = quantizer.inputDimension
        let codeValues = Array(UnsafeBufferPointer(start: try required(rawCodes, "raw_codes"),
                                                   count: try product(n, levels, "items × levels")))
        let errors = Array(UnsafeBufferPointer(start: try required(itemErrors, "item_errors"), count: n))
        let perLevel = levelErrors.map { Array(UnsafeBufferPointer(start: $0, count: codeValues.count)) }
        let report = trainingReport.map { pointer in
            ResidualKMeans.Report(levels: (0..<levels).map { level in
                let r = pointer[level]
                return .init(iterations: Int(r.iterations), trainingPoints: Int(r.training_points),
                             reseededClusters: Int(r.reseeded_clusters), residualMeanSquaredNorm: r.residual_mean_squared_norm)
            })
        }
        if let report, let bad = report.levels.firstIndex(where: { $0.iterations < 0 || $0.trainingPoints < 0 || $0.reseededClusters < 0 }) {
            throw ABIError.invalid("training_report[\(bad)] has a negative count")
        }
        let name = inputName.map { String(cString: $0) } ?? "<codes>"
        var inputs = [InputFingerprint(role: "embeddings", unhashedName: name,
                                       bytes: try product(try product(n, d, "items × dimension"), 4, "the embeddings' size"),
                                       rows: n, columns: d)]
        let records = try itemRecords(path: itemsPath, sourceIDs: sourceIDs, titles: titles, rows: n, inputs: &inputs)
        let encoded = IndexBuilder.EncodedItems(rawCodes: CodeMatrix(rows: n, levels: levels, values: codeValues),
                                                squaredErrors: errors, levelErrors: perLevel, totalVariance: totalVariance)
        settings.progress?(ProgressEvent(stage: "resolving collisions (\(settings.configuration.collisionPolicy.name))"))
        let built = try IndexBuilder.build(codebooks: quantizer, encoded: encoded, trainingReport: report, items: records,
                                           inputs: inputs, configuration: settings.configuration)
        try write(built, to: out, overwrite: settings.overwrite, progress: settings.progress, opening: outIndex)
    }
}

/// Refuses embeddings that `semid build` refuses: non-finite values and magnitudes whose squared
/// distances overflow float32 (``IndexBuilder/maximumMagnitude``).
func checkEmbeddings(_ x: Matrix, name: String) throws {
    if let bad = x.firstNonFinite() {
        throw ABIError.invalid("\(name) row \(bad.row), column \(bad.column) is not finite")
    }
    if let large = x.values.firstIndex(where: { abs($0) > IndexBuilder.maximumMagnitude }) {
        throw ABIError.invalid("\(name) row \(large / x.cols), column \(large % x.cols) is \(x.values[large]); values beyond ±\(IndexBuilder.maximumMagnitude) overflow squared distances in float32 (rescale the embeddings)")
    }
}

/// The rows training reads.
@_cdecl("semid_training_rows")
public func semid_training_rows(_ items: Int64, _ options: UnsafePointer<semid_codebook_options>?,
                                _ outRows: UnsafeMutablePointer<Int64>?, _ capacity: Int64,
                                _ outCount: UnsafeMutablePointer<Int64>?) -> Int32 {
    abiCall {
        let settings = try CodebookSettings(options)
        let n = try count(items, "items", minimum: 1)
        let room = try count(capacity, "capacity")
        let countOut = try required(outCount, "out_count")
        let configuration = settings.residualKMeans
        try configuration.validate(items: n)
        let rows = ResidualKMeans.trainingRows(items: n, configuration: configuration, seed: settings.configuration.seed)
        countOut.pointee = Int64(rows.count)
        guard rows.count <= room else {
            throw ABIError(.bufferTooSmall, "out_rows has room for \(room) rows; training reads \(rows.count)")
        }
        let out = try required(outRows, "out_rows")
        for (i, row) in rows.enumerated() { out[i] = Int64(row) }
    }
}

/// Codebooks trained from the training rows.
@_cdecl("semid_train_codebooks")
public func semid_train_codebooks(_ sample: UnsafePointer<Float>?, _ sampleRows: Int64, _ dimension: Int64,
                                  _ rows: UnsafePointer<Int64>?, _ items: Int64,
                                  _ options: UnsafePointer<semid_codebook_options>?,
                                  _ outCodebooks: UnsafeMutablePointer<Float>?, _ codebookValues: Int64,
                                  _ outReport: UnsafeMutablePointer<semid_level_report>?) -> Int32 {
    abiCall {
        let settings = try CodebookSettings(options)
        let n = try count(items, "items", minimum: 1)
        let m = try count(sampleRows, "sample_rows", minimum: 1)
        let d = try count(dimension, "dimension", minimum: 1)
        let expected = try product(settings.totalCodes, d, "codebook rows × dimension")
        guard codebookValues == Int64(expected) else {
            throw ABIError.invalid("codebook_values is \(codebookValues); the codebooks are [\(settings.totalCodes), \(d)] = \(expected) floats")
        }
        let out = try required(outCodebooks, "out_codebooks")
        let rowValues = UnsafeBufferPointer(start: try required(rows, "rows"), count: m)
        var rowList: [Int] = []
        rowList.reserveCapacity(m)
        for (i, row) in rowValues.enumerated() {
            guard row >= 0, row < Int64(n), i == 0 || row > rowValues[i - 1] else {
                throw ABIError.invalid("rows[\(i)] is \(row); rows must ascend strictly within 0 ..< items (\(n))")
            }
            rowList.append(Int(row))
        }
        let x = Matrix(rows: m, cols: d, values: Array(UnsafeBufferPointer(start: try required(sample, "sample"),
                                                                              count: try product(m, d, "sample_rows × dimension"))))
        try checkEmbeddings(x, name: "sample")
        let configuration = settings.residualKMeans
        if let dims = configuration.kmeans.warmupDimensions, let large = dims.first(where: { 2 * $0 > d }) {
            throw ABIError.invalid("options.warmup_dimensions: \(large) is more than half the dimension (\(d)); use dimensions up to \(d / 2), or none")
        }
        let trained = try ResidualKMeans.train(sample: x, rows: rowList, items: n, configuration: configuration,
                                               seed: settings.configuration.seed, progress: settings.progress)
        var offset = 0
        for book in trained.quantizer.codebooks {
            book.values.withUnsafeBufferPointer { (out + offset).update(from: $0.baseAddress!, count: $0.count) }
            offset += book.values.count
        }
        if let outReport {
            for (level, r) in trained.report.levels.enumerated() {
                outReport[level] = semid_level_report(iterations: Int64(r.iterations), training_points: Int64(r.trainingPoints),
                                                      reseeded_clusters: Int64(r.reseededClusters),
                                                      residual_mean_squared_norm: r.residualMeanSquaredNorm)
            }
        }
    }
}
