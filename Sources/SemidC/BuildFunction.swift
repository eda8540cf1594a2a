import CSemid
import Foundation
import Semid

/// Builds an index from embeddings in memory and writes it (optionally opening it).
@_cdecl("semid_build")
public func semid_build(_ embeddings: UnsafePointer<Float>?, _ rows: Int64, _ dimension: Int64,
                        _ itemsPath: UnsafePointer<CChar>?, _ sourceIDs: UnsafePointer<UnsafePointer<CChar>?>?,
                        _ titles: UnsafePointer<UnsafePointer<CChar>?>?, _ options: UnsafePointer<semid_build_options>?,
                        _ outPath: UnsafePointer<CChar>?, _ outIndex: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    abiCall {
        let out = try string(outPath, "out_path")
        let settings = try BuildSettings(options)
        try checkOutput(out, overwrite: settings.overwrite)
        let n = try count(rows, "rows", minimum: 1)
        let d = try count(dimension, "dimension", minimum: 1)
        let values = UnsafeBufferPointer(start: try required(embeddings, "embeddings"), count: try product(n, d, "rows × dimension"))
        let matrix = Matrix(rows: n, cols: d, values: Array(values))
        var request = BuildRequest(embeddings: .memory(matrix, role: "embeddings", name: "<memory float32>"),
                                   items: try itemInput(path: itemsPath, sourceIDs: sourceIDs, titles: titles, rows: n),
                                   configuration: settings.configuration, output: out)
        request.overwrite = settings.overwrite
        request.progress = settings.progress
        request.waiting = waitingForWriters(settings.progress)
        request.reportGroups = 0
        // Policy none with collisions left: no trie is stored, as `semid build` does.
        _ = try Pipeline.build(request)
        if let outIndex {
            outIndex.pointee = IndexHandle.register(try IndexHandle(path: out))
        }
    }
}

/// Refuses an existing `out` unless `overwrite`, and anything at `out` that is not an index.
func checkOutput(_ out: String, overwrite: Bool) throws {
    if FileSystem.exists(out) && !overwrite { throw IndexError.outputExists(path: out) }
    if FileSystem.exists(out) && !FileSystem.exists(out + "/" + IndexStore.manifestFile) {
        throw PipelineError.outputNotAnIndex(path: out)
    }
}

/// Stores the decoding trie with a built index (when its IDs are unique, as `semid build` does),
/// writes it to `out` atomically and, when `opening` is not nil, opens it there.
///
/// The writer lock of an existing index is taken as `semid build` takes it: another writer of
/// `out` (a CLI command, another build) is waited for, reported through `progress`.
func write(_ built: (index: SemanticIndex, catalog: [CatalogItem]), to out: String, overwrite: Bool,
           progress: ProgressHandler?, opening: UnsafeMutablePointer<OpaquePointer?>?) throws {
    var index = built.index
    do {
        try CodeTrie.attach(to: &index)
    } catch DecodingError.duplicateID {
        // Policy none with collisions left: no trie is stored.
    }
    try IndexStore.write(index, catalog: .new(built.catalog), to: out, overwrite: overwrite, progress: progress,
                         waiting: waitingForWriters(progress))
    if let opening {
        opening.pointee = IndexHandle.register(try IndexHandle(path: out))
    }
}

/// The per-level codebook sizes of an options struct: `list` (`levels` entries) when given, else
/// `codebookSize` at every level; every size in `2...65536`, `levels` in `1...64`. Errors name
/// the options field.
func perLevelCodebookSizes(levels: Int32, codebookSize: Int32, list: UnsafePointer<Int32>?) throws -> [Int] {
    guard (1...Int32(IndexLimits.maximumLevels)).contains(levels) else {
        throw ABIError.invalid("options.levels is \(levels); it must be in 1...\(IndexLimits.maximumLevels)")
    }
    let sizes = list.map { list in (0..<Int(levels)).map { Int(list[$0]) } } ?? Array(repeating: Int(codebookSize), count: Int(levels))
    for (level, size) in sizes.enumerated() where !(2...65_536).contains(size) {
        throw ABIError.invalid(list == nil
            ? "options.codebook_size is \(size); it must be in 2...65536"
            : "options.codebook_sizes[\(level)] is \(size); every size must be in 2...65536")
    }
    return sizes
}

/// `semid_build_options` read and checked.
struct BuildSettings {
    var configuration: BuildConfiguration
    var overwrite: Bool
    var progress: ProgressHandler?

    init(_ pointer: UnsafePointer<semid_build_options>?) throws {
        var options = semid_build_options()
        if let pointer {
            guard pointer.pointee.struct_size == UInt32(MemoryLayout<semid_build_options>.size) else {
                throw ABIError.invalid("options.struct_size is \(pointer.pointee.struct_size), expected \(MemoryLayout<semid_build_options>.size): call semid_build_options_init() first")
            }
            options = pointer.pointee
        } else {
            semid_build_options_init(&options)
        }
        let sizes = try perLevelCodebookSizes(levels: options.levels, codebookSize: options.codebook_size, list: options.codebook_sizes)
        let methodName = options.method.map { String(cString: $0) } ?? QuantizationMethod.rqKMeans.rawValue
        guard let method = QuantizationMethod(rawValue: methodName), !method.isAssigned else {
            throw ABIError.invalid("options.method is \"\(methodName)\"; it must be rq-kmeans or rq-vae")
        }
        let policyName = options.collisions.map { String(cString: $0) } ?? "suffix"
        guard let policy = CollisionPolicy(name: policyName) else {
            throw ABIError.invalid("options.collisions is \"\(policyName)\"; it must be one of \(CollisionPolicy.names.joined(separator: ", "))")
        }
        guard options.kmeans_iterations >= 0, options.epochs >= 0 else {
            throw ABIError.invalid("options.kmeans_iterations and options.epochs must be 0 (the default) or more")
        }
        var configuration = BuildConfiguration(codebookSizes: sizes, collisionPolicy: policy, seed: options.seed)
        configuration.method = method
        if options.kmeans_iterations > 0 { configuration.kmeans.iterations = Int(options.kmeans_iterations) }
        if options.epochs > 0 { configuration.rqvae.epochs = Int(options.epochs) }
        self.configuration = configuration
        self.overwrite = options.overwrite != 0
        self.progress = progressHandler(options.progress, options.progress_context)
    }
}

/// The library's progress handler calling a C `semid_progress_fn` (nil without one).
func progressHandler(_ callback: semid_progress_fn?, _ pointer: UnsafeMutableRawPointer?) -> ProgressHandler? {
    guard let callback else { return nil }
    let context = UncheckedContext(pointer)
    return { event in
        event.stage.withCString { stage in
            event.detail.withCString { detail in
                callback(stage, detail, Int64(event.step), Int64(event.total), event.finished ? 1 : 0, context.pointer)
            }
        }
    }
}

/// The writer-lock policy of the ABI's builds: wait for another writer of the output, reporting
/// it through the progress callback (stage "waiting for another writer"), as `semid build` does.
func waitingForWriters(_ progress: ProgressHandler?) -> DirectoryLock.Waiting {
    DirectoryLock.Waiting(waits: true, notice: { message in
        progress?(ProgressEvent(stage: "waiting for another writer", detail: message))
    })
}

/// The caller's progress context, handed back to it unchanged from whichever thread reports.
struct UncheckedContext: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
    init(_ pointer: UnsafeMutableRawPointer?) { self.pointer = pointer }
}

/// The item metadata of `semid_build_from_codes`: read from `path` (checked: ids `0..<rows`), or
/// from the `sourceIDs` / `titles` arrays, or `nil`; adds its fingerprint to `inputs`.
func itemRecords(path: UnsafePointer<CChar>?, sourceIDs: UnsafePointer<UnsafePointer<CChar>?>?,
                 titles: UnsafePointer<UnsafePointer<CChar>?>?, rows: Int,
                 inputs: inout [InputFingerprint]) throws -> [ItemRecord]? {
    switch try itemInput(path: path, sourceIDs: sourceIDs, titles: titles, rows: rows) {
    case .file(let file):
        let records = try ItemCatalogFile.read(at: file)
        try ItemCatalogFile.validateDense(records, startingAt: 0, source: file)
        guard records.count == rows else {
            throw PipelineError.itemCountMismatch(items: file, count: records.count, embeddings: nil, rows: rows)
        }
        inputs.append(try InputFingerprint(role: "items", path: file, rows: records.count, columns: nil))
        return records
    case let .memory(records, fingerprint):
        if let fingerprint { inputs.append(fingerprint) }
        return records
    case nil:
        return nil
    }
}

/// The item metadata of `semid_build`: the file at `path` (read and checked by the pipeline), or
/// the `sourceIDs` / `titles` arrays with their fingerprint, or `nil`.
func itemInput(path: UnsafePointer<CChar>?, sourceIDs: UnsafePointer<UnsafePointer<CChar>?>?,
               titles: UnsafePointer<UnsafePointer<CChar>?>?, rows: Int) throws -> PipelineInput<[ItemRecord]>? {
    if let path {
        guard sourceIDs == nil, titles == nil else {
            throw ABIError.invalid("give items_path or the source_ids / titles arrays, not both")
        }
        let file = String(cString: path)
        guard FileSystem.exists(file) else { throw ABIError(.notFound, "\(file): items file not found") }
        return .file(file)
    }
    guard sourceIDs != nil || titles != nil else { return nil }
    func text(_ array: UnsafePointer<UnsafePointer<CChar>?>?, _ i: Int) -> String? {
        array?[i].map { String(cString: $0) }
    }
    let records = (0..<rows).map { ItemRecord(id: $0, sourceID: text(sourceIDs, $0), title: text(titles, $0)) }
    // Fingerprint of the metadata as given: per item, source id and title, each preceded by a
    // presence byte and followed by a NUL.
    var bytes: [UInt8] = []
    for record in records {
        for field in [record.sourceID, record.title] {
            bytes.append(field == nil ? 0 : 1)
            bytes += Array((field ?? "").utf8) + [0]
        }
    }
    let fingerprint = bytes.withUnsafeBytes {
        InputFingerprint(role: "items", name: "<memory strings>", bytes: $0, rows: rows, columns: nil)
    }
    return .memory(records, fingerprint: fingerprint)
}
