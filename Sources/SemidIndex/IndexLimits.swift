import SemidQuantization
import SemidStorage

/// Bounds on what an index may declare. Every number read from a manifest is checked against
/// these (and against the data it describes) before anything is allocated from it, so a crafted
/// or corrupted index gives a one-line error, never a crash or an exhausted memory.
public enum IndexLimits {
    /// Items (and users) per index: item ids are `Int32` in the shards.
    public static let maximumItems = Int(Int32.max)
    /// Quantizer levels.
    public static let maximumLevels = CodebookSizes.maximumLevels
    /// Codes per level (the decoding trie stores codes as `UInt16`).
    public static let maximumCodebookSize = 65_536
    /// Embedding dimension.
    public static let maximumDimension = 1 << 20
    /// Decompressed bytes of one shard (what zstd may be asked to allocate).
    public static let maximumShardBytes = 1 << 34
    /// Dimensions of a shard's array.
    public static let maximumRank = 8

    /// Whether `name` is a plain file name inside the index directory (no path, not hidden).
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.contains("/") && !name.hasPrefix(".") && !name.contains("\u{0}")
    }

    /// Whether `text` is a lowercase hex SHA-256 digest.
    static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

extension IndexManifest {
    /// Checks every number and name against ``IndexLimits`` and against each other; `file` names
    /// the manifest in errors, which name the field (`parameters.codebook_size`, `shards[3].rows`, …).
    public func validate(file: String) throws {
        func bad(_ field: String, _ problem: String) -> InputError { InputError(file, field: field, problem) }
        guard (0...IndexLimits.maximumItems).contains(items) else {
            throw bad("items", "is \(items); an index holds 0…\(IndexLimits.maximumItems) items")
        }
        let p = parameters
        guard (1...IndexLimits.maximumLevels).contains(p.levels) else {
            throw bad("parameters.levels", "is \(p.levels); expected 1…\(IndexLimits.maximumLevels)")
        }
        let sizesField = CodebookSizes.isUniform(p.codebookSizes) ? "parameters.codebook_size" : "parameters.codebook_sizes"
        for (l, size) in p.codebookSizes.enumerated() where !(1...IndexLimits.maximumCodebookSize).contains(size) {
            let field = CodebookSizes.isUniform(p.codebookSizes) ? sizesField : "\(sizesField)[\(l)]"
            throw bad(field, "is \(size); expected 1…\(IndexLimits.maximumCodebookSize)")
        }
        guard (0...IndexLimits.maximumDimension).contains(p.dimension) else {
            throw bad("parameters.dimension", "is \(p.dimension); expected 0…\(IndexLimits.maximumDimension)")
        }
        guard p.rowsPerShard >= 1 else { throw bad("parameters.rows_per_shard", "is \(p.rowsPerShard); expected at least 1") }
        guard idLength == p.levels || idLength == p.levels + 1 else {
            throw bad("id_length", "is \(idLength) for \(p.levels) levels; expected \(p.levels) or \(p.levels + 1)")
        }
        guard codeSizes.count == idLength else {
            throw bad("code_sizes", "has \(codeSizes.count) entries for id_length \(idLength)")
        }
        for (l, size) in codeSizes.enumerated() {
            if l < p.levels {
                guard size == p.codebookSizes[l] else {
                    throw bad("code_sizes[\(l)]", "is \(size); quantizer level \(l) has \(p.codebookSizes[l]) codes (\(sizesField))")
                }
            } else {
                guard size >= 1 && size <= Swift.max(1, items) else {
                    throw bad("code_sizes[\(l)]", "is \(size); the suffix level has 1…\(Swift.max(1, items)) codes for \(items) items")
                }
            }
        }
        guard IndexLimits.isPlainFileName(catalog.file) else {
            throw bad("catalog.file", "is \"\(catalog.file)\"; expected a file name inside the index")
        }
        guard catalog.bytes >= 0 else { throw bad("catalog.bytes", "is \(catalog.bytes)") }
        for (b, batch) in batches.enumerated() {
            guard batch.items >= 0, batch.firstItem >= 0, batch.firstItem <= items - batch.items else {
                throw bad("batches[\(b)]", "items \(batch.firstItem)…\(batch.firstItem + batch.items - 1) are outside the index's \(items) items")
            }
        }
        var files = Set<String>()
        for (s, shard) in shards.enumerated() {
            let field = "shards[\(s)]"
            guard IndexLimits.isPlainFileName(shard.file), files.insert(shard.file).inserted else {
                throw bad("\(field).file", "is \"\(shard.file)\"; expected a file name inside the index, listed once")
            }
            guard !shard.array.isEmpty else { throw bad("\(field).array", "is empty") }
            guard let dtype = ShardDType.allCases.first(where: { $0.name == shard.dtype }) else {
                throw bad("\(field).dtype", "is \"\(shard.dtype)\"; expected one of \(ShardDType.allCases.map(\.name).joined(separator: ", "))")
            }
            guard shard.shape.count <= IndexLimits.maximumRank, let size = ShardArray.contentSize(dtype: dtype, shape: shard.shape),
                  size <= IndexLimits.maximumShardBytes else {
                throw bad("\(field).shape", "is \(shard.shape) of \(shard.dtype) (\(shard.file)); expected at most \(IndexLimits.maximumRank) non-negative dimensions and \(IndexLimits.maximumShardBytes) bytes")
            }
            let first = shard.shape.first ?? 1
            guard shard.rows.count == 2, shard.rows[0] >= 0, shard.rows[1] >= shard.rows[0],
                  shard.rows[1] - shard.rows[0] == first else {
                throw bad("\(field).rows", "are \(shard.rows) for shape \(shard.shape) (\(shard.file)); expected [first, first + \(first)]")
            }
            guard shard.bytes >= 0 else { throw bad("\(field).bytes", "is \(shard.bytes) (\(shard.file))") }
            guard IndexLimits.isSHA256(shard.sha256) else {
                throw bad("\(field).sha256", "is not a SHA-256 digest (\(shard.file))")
            }
        }
    }
}
