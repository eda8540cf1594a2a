import SemidMath
import SemidQuantization

/// How items whose raw codes coincide get distinct semantic IDs.
///
/// Recorded in the manifest as `{"name": "suffix"}` etc. The policy is a seam: each case is
/// implemented by a ``CollisionResolver``, obtained from ``resolver``.
public enum CollisionPolicy: Equatable, Sendable, Codable, CustomStringConvertible {
    /// Keep the raw codes; colliding items share an ID (reported, not fixed).
    case none
    /// TIGER: append one level holding the item's rank inside its group of identical raw codes.
    case suffix

    /// Every policy name accepted by `--collisions`.
    public static let names = ["none", "suffix"]

    /// Parses a `--collisions` value.
    public init?(name: String) {
        switch name {
        case "none": self = .none
        case "suffix": self = .suffix
        default: return nil
        }
    }

    /// The name used on the command line and in the manifest.
    public var name: String {
        switch self {
        case .none: return "none"
        case .suffix: return "suffix"
        }
    }

    public var description: String { name }

    /// Whether final IDs have one more level than the quantizer.
    public var addsLevel: Bool { self == .suffix }

    /// The implementation of this policy.
    public var resolver: any CollisionResolver {
        switch self {
        case .none: return UnresolvedCollisions()
        case .suffix: return SuffixResolver()
        }
    }

    private enum CodingKeys: String, CodingKey { case name }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .name)
        guard let policy = CollisionPolicy(name: name) else {
            throw DecodingError.dataCorruptedError(forKey: .name, in: c,
                debugDescription: "unknown collision policy \"\(name)\" (known: \(Self.names.joined(separator: ", ")))")
        }
        self = policy
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
    }
}

/// The data a resolver may consult besides the raw codes.
public struct ResolutionContext {
    /// For the given rows (indices into the raw codes being resolved), squared distances from the
    /// residual entering the last level to every last-level code (`[rows.count, K]`).
    public var lastLevelDistances: ([Int]) throws -> Matrix

    /// Creates a context.
    public init(lastLevelDistances: @escaping ([Int]) throws -> Matrix) {
        self.lastLevelDistances = lastLevelDistances
    }
}

/// Final IDs and what it took to make them.
public struct CollisionResolution: Sendable {
    /// What the resolver did, recorded in the manifest.
    public struct Summary: Codable, Equatable, Sendable {
        /// Items whose code at some level differs from the raw code (0 for `none`/`suffix`).
        public var itemsMoved: Int
        /// Size of the added suffix level (largest colliding group), or `nil` without one.
        public var suffixSize: Int?
        /// Per round of an iterative policy: items moved in the round and the mean increase of
        /// their squared reconstruction error.
        public var rounds: [Round]

        /// One round of an iterative policy.
        public struct Round: Codable, Equatable, Sendable {
            public var collidingItems: Int
            public var itemsMoved: Int
            public var meanErrorIncrease: Double
        }
    }

    /// The final IDs, `[n, idLength]`.
    public var ids: CodeMatrix
    /// Vocabulary size per ID position.
    public var codeSizes: [Int]
    /// Summary for the manifest and reports.
    public var summary: Summary
}

/// One collision policy's implementation.
public protocol CollisionResolver: Sendable {
    /// Final IDs for all items of a build from their raw codes (`[n, L]`), with `codebookSize`
    /// codes per level.
    func resolve(raw: CodeMatrix, codebookSize: Int, context: ResolutionContext) throws -> CollisionResolution

    /// Final IDs for new items (`newRaw`, `[m, L]`) added to an index whose items have `existingRaw`
    /// and `existingIDs`. Existing IDs never change; every new ID is distinct from all others
    /// (except under a policy that keeps collisions). Returns the new IDs and the updated code sizes.
    func extend(existingRaw: CodeMatrix, existingIDs: CodeMatrix, codeSizes: [Int],
                newRaw: CodeMatrix, context: ResolutionContext) throws -> (ids: CodeMatrix, codeSizes: [Int])
}

/// `none`: IDs are the raw codes.
public struct UnresolvedCollisions: CollisionResolver {
    /// Creates the resolver.
    public init() {}

    public func resolve(raw: CodeMatrix, codebookSize: Int, context: ResolutionContext) throws -> CollisionResolution {
        CollisionResolution(ids: raw, codeSizes: Array(repeating: codebookSize, count: raw.levels),
                            summary: .init(itemsMoved: 0, suffixSize: nil, rounds: []))
    }

    public func extend(existingRaw: CodeMatrix, existingIDs: CodeMatrix, codeSizes: [Int],
                       newRaw: CodeMatrix, context: ResolutionContext) throws -> (ids: CodeMatrix, codeSizes: [Int]) {
        (newRaw, codeSizes)
    }
}

/// `suffix` (TIGER): one extra level = rank of the item (by item id) among items with the same raw
/// codes; the level's size is the largest group. New items take the next free rank of their group.
public struct SuffixResolver: CollisionResolver {
    /// Creates the resolver.
    public init() {}

    public func resolve(raw: CodeMatrix, codebookSize: Int, context: ResolutionContext) throws -> CollisionResolution {
        var nextRank: [ArraySlice<Int32>: Int32] = [:]
        nextRank.reserveCapacity(raw.rows)
        var suffix = [Int32](repeating: 0, count: raw.rows)
        var largest: Int32 = 1
        for i in 0..<raw.rows {
            let key = raw.row(i)
            let rank = nextRank[key, default: 0]
            suffix[i] = rank
            nextRank[key] = rank + 1
            largest = max(largest, rank + 1)
        }
        return CollisionResolution(
            ids: raw.appendingLevel(suffix),
            codeSizes: Array(repeating: codebookSize, count: raw.levels) + [Int(largest)],
            summary: .init(itemsMoved: 0, suffixSize: Int(largest), rounds: []))
    }

    public func extend(existingRaw: CodeMatrix, existingIDs: CodeMatrix, codeSizes: [Int],
                       newRaw: CodeMatrix, context: ResolutionContext) throws -> (ids: CodeMatrix, codeSizes: [Int]) {
        // Next free rank per group = 1 + highest rank in use (ranks are dense per group).
        var nextRank: [ArraySlice<Int32>: Int32] = [:]
        let levels = existingRaw.levels
        for i in 0..<existingRaw.rows {
            let key = existingRaw.row(i)
            nextRank[key] = max(nextRank[key, default: 0], existingIDs[i, levels] + 1)
        }
        var suffix = [Int32](repeating: 0, count: newRaw.rows)
        var sizes = codeSizes
        for i in 0..<newRaw.rows {
            let key = newRaw.row(i)
            let rank = nextRank[key, default: 0]
            suffix[i] = rank
            nextRank[key] = rank + 1
            sizes[levels] = max(sizes[levels], Int(rank) + 1)
        }
        return (newRaw.appendingLevel(suffix), sizes)
    }
}
