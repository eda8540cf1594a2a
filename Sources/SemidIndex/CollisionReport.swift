import Foundation
import SemidQuantization

/// Codebook health and collision figures of an index: what `semid inspect` prints.
///
/// `collision_rate = (items − distinct_ids) / items`. Per-level figures describe the raw quantizer
/// codes; "final" figures describe the IDs after the collision policy.
public struct CollisionReport: Codable, Equatable, Sendable {
    /// Number of items.
    public var items: Int
    /// Quantizer levels `L`.
    public var levels: Int
    /// Codes per level `K` when every level has the same size, `nil` otherwise.
    public var codebookSize: Int?
    /// Codes at each quantizer level, `K_l`.
    public var codebookSizes: [Int]
    /// Codes per final ID.
    public var idLength: Int
    /// The policy's name.
    public var collisionPolicy: String
    /// Quantizer method (`rq-kmeans`, `rq-vae`).
    public var method: String
    /// Figures over the raw codes.
    public var raw: RawFigures
    /// Figures over the final IDs.
    public var final: FinalFigures
    /// Per quantizer level, over the raw codes.
    public var perLevel: [LevelFigures]
    /// Reconstruction error of the raw codes (build items, and all items when some were added).
    public var reconstruction: Reconstruction
    /// The largest groups of items sharing a raw ID, largest first.
    public var largestGroups: [Group]
    /// Items added by `semid add` after the build.
    public var itemsAdded: Int
    /// Number of `add` batches.
    public var addBatches: Int
    /// Size of the suffix level, when the policy adds one.
    public var suffixSize: Int?

    /// Collision figures of the raw codes.
    public struct RawFigures: Codable, Equatable, Sendable {
        /// Number of distinct raw IDs.
        public var distinctIds: Int
        /// `(items − distinctIds) / items`, in [0, 1].
        public var collisionRate: Double
        /// Items that share their raw ID with at least one other item.
        public var itemsInCollisions: Int
        /// Fraction of items that share their raw ID.
        public var fractionInCollisions: Double
        /// The largest number of items sharing one raw ID.
        public var maxGroup: Int
        /// Number of raw IDs shared by two or more items.
        public var collidingGroups: Int
    }

    /// Collision figures of the final IDs.
    public struct FinalFigures: Codable, Equatable, Sendable {
        /// Number of distinct final IDs.
        public var distinctIds: Int
        /// `(items − distinctIds) / items`, in [0, 1] (0 when the policy resolves every collision).
        public var collisionRate: Double
        /// The largest number of items sharing one final ID.
        public var maxGroup: Int
    }

    /// Usage of one quantizer level's codes.
    public struct LevelFigures: Codable, Equatable, Sendable {
        /// 1-based level.
        public var level: Int
        /// The level's codebook size `K`.
        public var codebookSize: Int
        /// Codes used by at least one item.
        public var usedCodes: Int
        /// `usedCodes / K`.
        public var utilization: Double
        /// `exp(entropy)` of the code usage distribution (K when perfectly uniform).
        public var perplexity: Double
        /// Codes used by no item (`K − usedCodes`).
        public var deadCodes: Int
        /// Distinct ID prefixes of length `level`.
        public var distinctPrefixes: Int
        /// Mean squared residual after this level over the variance of the quantized vectors (build items).
        public var relativeResidual: Double?
    }

    /// Reconstruction error.
    public struct Reconstruction: Codable, Equatable, Sendable {
        /// `mean ‖x − x̂‖² / mean ‖x − μ‖²` over the build items.
        public var relativeMse: Double
        /// `mean ‖x − x̂‖²` over the build items.
        public var mse: Double
        /// `mean ‖x − μ‖²` over the build items.
        public var totalVariance: Double
        /// Relative MSE of the items added later, when there are any.
        public var addedRelativeMse: Double?
    }

    /// Items that share one raw ID.
    public struct Group: Codable, Equatable, Sendable {
        /// The shared raw codes.
        public var rawId: [Int32]
        /// The items, by id.
        public var items: [Member]

        /// One item of a group.
        public struct Member: Codable, Equatable, Sendable {
            /// The item's id (row in the index).
            public var item: Int
            /// The item's title, when the index has one.
            public var title: String?
            /// The item's final ID after the collision policy.
            public var finalId: [Int32]
        }
    }

    /// Computes the report.
    ///
    /// - Parameters:
    ///   - rawCodes: raw quantizer codes, `[n, L]`.
    ///   - finalIDs: final IDs, `[n, idLength]`.
    ///   - titles: looks up titles for the items of the largest groups.
    ///   - groupLimit: how many of the largest groups to list.
    public init(manifest: IndexManifest, rawCodes: CodeMatrix, finalIDs ids: CodeMatrix,
                groupLimit: Int = 10, titles: ([Int]) throws -> [Int: String]) rethrows {
        try self.init(rawCodes: rawCodes, finalIDs: ids, codebookSizes: manifest.parameters.codebookSizes,
                      collisionPolicy: manifest.parameters.collisionPolicy, method: manifest.parameters.method,
                      codeSizes: manifest.codeSizes, batches: manifest.batches, groupLimit: groupLimit, titles: titles)
    }

    /// Computes the report for any set of codes (items, or users).
    ///
    /// - Parameters:
    ///   - rawCodes: raw quantizer codes, `[n, L]`.
    ///   - finalIDs: final IDs, `[n, idLength]`.
    ///   - codebookSizes: `K_l` per quantizer level (`L` entries).
    ///   - codeSizes: vocabulary per ID position.
    ///   - batches: the build and later additions, with their reconstruction figures.
    ///   - titles: looks up titles for the members of the largest groups.
    public init(rawCodes: CodeMatrix, finalIDs ids: CodeMatrix, codebookSizes: [Int], collisionPolicy policy: CollisionPolicy,
                method: String, codeSizes: [Int], batches: [Batch], groupLimit: Int = 10,
                titles: ([Int]) throws -> [Int: String]) rethrows {
        let n = rawCodes.rows
        items = n
        levels = rawCodes.levels
        self.codebookSizes = codebookSizes
        codebookSize = CodebookSizes.isUniform(codebookSizes) ? codebookSizes.first : nil
        idLength = ids.levels
        collisionPolicy = policy.name
        self.method = method

        // Raw groups, by sorting the rows by code (no hash table of n keys).
        let rawOrder = CodeOrder(rawCodes)
        var distinct = 0, inCollisions = 0, largestRaw = 0
        var colliding: [Range<Int>] = []
        rawOrder.forEachGroup { run in
            distinct += 1
            largestRaw = max(largestRaw, run.count)
            if run.count > 1 { colliding.append(run); inCollisions += run.count }
        }
        raw = RawFigures(
            distinctIds: distinct,
            collisionRate: n == 0 ? 0 : Double(n - distinct) / Double(n),
            itemsInCollisions: inCollisions,
            fractionInCollisions: n == 0 ? 0 : Double(inCollisions) / Double(n),
            maxGroup: largestRaw,
            collidingGroups: colliding.count)

        let finalOrder = CodeOrder(ids)
        var distinctFinal = 0, largestFinal = 0
        finalOrder.forEachGroup { run in
            distinctFinal += 1
            largestFinal = max(largestFinal, run.count)
        }
        final = FinalFigures(distinctIds: distinctFinal,
                             collisionRate: n == 0 ? 0 : Double(n - distinctFinal) / Double(n),
                             maxGroup: largestFinal)

        // Per level.
        let stats = batches.first?.reconstruction
            ?? ReconstructionStatistics(vectors: 0, meanSquaredError: 0, totalVariance: 0, relativeMse: 0, residualFractionByLevel: [])
        var figures: [LevelFigures] = []
        for level in 0..<rawCodes.levels {
            let k = level < codebookSizes.count ? codebookSizes[level] : 0
            var counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                let c = Int(rawCodes[i, level])
                if c >= 0 && c < k { counts[c] += 1 }
            }
            let used = counts.filter { $0 > 0 }.count
            var entropy = 0.0
            for c in counts where c > 0 {
                let p = Double(c) / Double(n)
                entropy -= p * Foundation.log(p)
            }
            let residual = level < stats.residualFractionByLevel.count ? stats.residualFractionByLevel[level] : nil
            figures.append(LevelFigures(level: level + 1, codebookSize: k, usedCodes: used, utilization: Double(used) / Double(max(k, 1)),
                                        perplexity: Foundation.exp(entropy), deadCodes: k - used,
                                        distinctPrefixes: rawOrder.distinctPrefixes(length: level + 1), relativeResidual: residual))
        }
        perLevel = figures

        let added = batches.filter { $0.batch > 0 }
        let addedVectors = added.reduce(0) { $0 + $1.reconstruction.vectors }
        let addedError = added.reduce(0.0) { $0 + $1.reconstruction.meanSquaredError * Double($1.reconstruction.vectors) }
        reconstruction = Reconstruction(
            relativeMse: stats.relativeMse, mse: stats.meanSquaredError, totalVariance: stats.totalVariance,
            addedRelativeMse: addedVectors > 0 && stats.totalVariance > 0
                ? addedError / Double(addedVectors) / stats.totalVariance : nil)
        itemsAdded = added.reduce(0) { $0 + $1.items }
        addBatches = added.count
        suffixSize = policy.addsLevel ? codeSizes.last : nil

        // Largest groups: by size, then by first item.
        let first = { (run: Range<Int>) in rawOrder.rows[run.lowerBound] }
        let top = colliding.sorted { $0.count != $1.count ? $0.count > $1.count : first($0) < first($1) }.prefix(groupLimit)
            .map { Array(rawOrder.rows[$0]) }
        let titleMap = try titles(top.flatMap { $0 })
        largestGroups = top.map { members in
            Group(rawId: Array(rawCodes.row(members[0])),
                  items: members.map { Group.Member(item: $0, title: titleMap[$0], finalId: Array(ids.row($0))) })
        }
    }
}
