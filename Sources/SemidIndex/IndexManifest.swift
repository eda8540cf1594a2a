import Foundation
import SemidQuantization
import SemidStorage

/// `manifest.json`: what an index holds and how it was made. Written last, read first.
///
/// Keys are `snake_case`; the format is specified in `docs/index-format.md`. Everything needed to
/// reproduce the index is here: every parameter, the seed, and fingerprints of the inputs.
public struct IndexManifest: Codable, Equatable, Sendable {
    /// Always `"semid-index"`.
    public var format: String
    /// The on-disk format version; readers refuse newer versions.
    public var formatVersion: Int
    /// The program that wrote the index, e.g. `"semid 0.1.0"`.
    public var createdBy: String
    /// Build parameters.
    public var parameters: BuildParameters
    /// Number of items.
    public var items: Int
    /// Codes per final semantic ID (levels, plus one for the `suffix` policy).
    public var idLength: Int
    /// Vocabulary size at each ID position (`idLength` values): `K_l` per quantizer level, then the
    /// suffix level's size (the largest colliding group) when there is one.
    public var codeSizes: [Int]
    /// Figures measured at build time (reconstruction error, training report, collision resolution).
    public var statistics: BuildStatistics
    /// The build (batch 0, whose `inputs` are the build's input fingerprints) and every later `semid add`.
    public var batches: [Batch]
    /// Every shard file with its array, row range, size and checksum.
    public var shards: [ShardEntry]
    /// The catalog file's size and checksum at the time the manifest was written.
    public var catalog: FileFingerprint
    /// Sections owned by later stages, by name (e.g. `"model"`, `"users"`); absent when empty.
    public var extensions: [String: JSONValue]?

    /// The current format version written by this code.
    public static let currentFormatVersion = 1
    /// The `format` value.
    public static let formatName = "semid-index"
}

/// Parameters of `semid build`.
///
/// The codebook sizes are written as `levels` + `codebook_size` when every level has the same size
/// (the bytes of every index written before sizes could differ) and as `levels` + `codebook_sizes`
/// otherwise (``CodebookSizes``).
public struct BuildParameters: Codable, Equatable, Sendable {
    /// `"rq-kmeans"`, `"rq-vae"`, `"random"` or `"sequential"`.
    public var method: String
    /// Codes at each quantizer level, `K_l` (`L` entries).
    public var codebookSizes: [Int]
    /// Quantizer levels `L`.
    public var levels: Int { codebookSizes.count }
    /// Input dimension `d`.
    public var dimension: Int
    /// The collision policy and its settings.
    public var collisionPolicy: CollisionPolicy
    /// The seed every random choice was drawn from.
    public var seed: UInt64
    /// k-means settings (RQ-KMeans).
    public var kmeans: KMeans.Configuration?
    /// Architecture, optimizer and training settings (RQ-VAE).
    public var rqvae: RQVAE.Configuration?
    /// Maximum rows per shard of a per-item array.
    public var rowsPerShard: Int
    /// The vectors that were quantized (`content`, `collaborative`, `hybrid`); `nil` for assigned IDs.
    public var source: ItemVectorSource?
    /// Settings of collaborative/hybrid vectors (and the held-out items of sequential IDs).
    public var collaborative: CollaborativeConfiguration?

    /// Every field.
    public init(method: String, codebookSizes: [Int], dimension: Int, collisionPolicy: CollisionPolicy, seed: UInt64,
                kmeans: KMeans.Configuration? = nil, rqvae: RQVAE.Configuration? = nil, rowsPerShard: Int,
                source: ItemVectorSource? = nil, collaborative: CollaborativeConfiguration? = nil) {
        self.method = method
        self.codebookSizes = codebookSizes
        self.dimension = dimension
        self.collisionPolicy = collisionPolicy
        self.seed = seed
        self.kmeans = kmeans
        self.rqvae = rqvae
        self.rowsPerShard = rowsPerShard
        self.source = source
        self.collaborative = collaborative
    }

    enum CodingKeys: String, CodingKey {
        case method, levels, codebookSize, codebookSizes, dimension, collisionPolicy, seed, kmeans, rqvae, rowsPerShard,
             source, collaborative
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(String.self, forKey: .method)
        codebookSizes = try CodebookSizes.decode(from: c, levels: .levels, size: .codebookSize, sizes: .codebookSizes)
        dimension = try c.decode(Int.self, forKey: .dimension)
        collisionPolicy = try c.decode(CollisionPolicy.self, forKey: .collisionPolicy)
        seed = try c.decode(UInt64.self, forKey: .seed)
        kmeans = try c.decodeIfPresent(KMeans.Configuration.self, forKey: .kmeans)
        rqvae = try c.decodeIfPresent(RQVAE.Configuration.self, forKey: .rqvae)
        rowsPerShard = try c.decode(Int.self, forKey: .rowsPerShard)
        source = try c.decodeIfPresent(ItemVectorSource.self, forKey: .source)
        collaborative = try c.decodeIfPresent(CollaborativeConfiguration.self, forKey: .collaborative)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try CodebookSizes.encode(codebookSizes, to: &c, levels: .levels, size: .codebookSize, sizes: .codebookSizes)
        try c.encode(dimension, forKey: .dimension)
        try c.encode(collisionPolicy, forKey: .collisionPolicy)
        try c.encode(seed, forKey: .seed)
        try c.encodeIfPresent(kmeans, forKey: .kmeans)
        try c.encodeIfPresent(rqvae, forKey: .rqvae)
        try c.encode(rowsPerShard, forKey: .rowsPerShard)
        try c.encodeIfPresent(source, forKey: .source)
        try c.encodeIfPresent(collaborative, forKey: .collaborative)
    }
}

/// Size and SHA-256 of a file.
public struct FileFingerprint: Codable, Equatable, Sendable {
    /// File name (no directories, so moving inputs does not change the index).
    public var file: String
    /// Size in bytes.
    public var bytes: Int
    /// Lowercase hex SHA-256 of the content (as `sha256sum` prints it).
    public var sha256: String
}

/// A build input and what was read from it.
///
/// Inputs can be gigabytes, so they are fingerprinted with XXH64 (check with `xxhsum -H1 FILE`)
/// rather than SHA-256, which runs at under 200 MB/s on these CPUs.
public struct InputFingerprint: Codable, Equatable, Sendable {
    /// `"embeddings"` or `"items"` (later: `"sequences"`, …).
    public var role: String
    /// File name (no directories).
    public var file: String
    /// Size in bytes.
    public var bytes: Int
    /// XXH64 of the content, 16 hex digits.
    public var xxh64: String
    /// Rows read (vectors or items).
    public var rows: Int
    /// Columns (embedding dimension), when the input is a matrix.
    public var columns: Int?

    /// A fingerprint computed elsewhere (e.g. while the file was streamed); `file` is the name only.
    public init(role: String, file: String, bytes: Int, xxh64: String, rows: Int, columns: Int?) {
        self.role = role
        self.file = file
        self.bytes = bytes
        self.xxh64 = xxh64
        self.rows = rows
        self.columns = columns
    }

    /// Fingerprints the file at `path` (read in 4 MiB chunks) for `role`.
    public init(role: String, path: String, rows: Int, columns: Int?) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(path, FileSystem.exists(path) ? "cannot be read" : "file not found")
        }
        defer { try? handle.close() }
        var hash = XXH64()
        var bytes = 0
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            bytes += chunk.count
            chunk.withUnsafeBytes { hash.update($0) }
        }
        self.role = role
        self.file = (path as NSString).lastPathComponent
        self.bytes = bytes
        self.xxh64 = hash.finalizeHex()
        self.rows = rows
        self.columns = columns
    }
}

/// One group of items written together: the original build or an `add`.
public struct Batch: Codable, Equatable, Sendable {
    /// 0 for the build, then 1, 2, … for each `add`.
    public var batch: Int
    /// `"build"` or `"add"`.
    public var operation: String
    /// First item id of the batch.
    public var firstItem: Int
    /// Number of items in the batch.
    public var items: Int
    /// The inputs of this batch.
    public var inputs: [InputFingerprint]
    /// Reconstruction figures over this batch's items.
    public var reconstruction: ReconstructionStatistics
}

/// One shard file.
public struct ShardEntry: Codable, Equatable, Sendable {
    /// File name inside the index directory, e.g. `"ids-00000.zst"`.
    public var file: String
    /// The array this shard is part of, e.g. `"ids"`, `"raw_codes"`, `"codebooks"`.
    public var array: String
    /// Element type name (`f32`, `i32`, …).
    public var dtype: String
    /// Shape of the part in this shard.
    public var shape: [Int]
    /// The range of first-axis rows this shard holds: `[first, end)`.
    public var rows: [Int]
    /// Compressed size in bytes.
    public var bytes: Int
    /// SHA-256 of the file.
    public var sha256: String
}

/// Reconstruction error of a set of vectors by their raw codes.
public struct ReconstructionStatistics: Codable, Equatable, Sendable {
    /// Vectors measured.
    public var vectors: Int
    /// Mean squared reconstruction error per vector, `mean ‖x − x̂‖²`.
    public var meanSquaredError: Double
    /// Mean squared distance to the mean, `mean ‖x − μ‖²` (the data's total variance).
    public var totalVariance: Double
    /// `meanSquaredError / totalVariance`.
    public var relativeMse: Double
    /// Per quantizer level, the mean squared residual after the level divided by the variance of
    /// the quantized vectors (the inputs for RQ-KMeans, the encoder's latents for RQ-VAE); `L` values.
    public var residualFractionByLevel: [Double]
}

/// Figures recorded at build time (reconstruction figures are per batch, in ``Batch``).
public struct BuildStatistics: Codable, Equatable, Sendable {
    /// Residual k-means training report (RQ-KMeans).
    public var kmeans: ResidualKMeans.Report?
    /// RQ-VAE training report (RQ-VAE), as written by the quantization layer.
    public var rqvae: JSONValue?
    /// What the collision policy did.
    public var collisions: CollisionResolution.Summary
    /// What building collaborative vectors found (collaborative and hybrid sources).
    public var collaborative: ItemVectors.Statistics?
}
