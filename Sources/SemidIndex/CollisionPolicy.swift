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
    /// LC-Rec's uniform semantic mapping: re-assign the last level of colliding items by
    /// Sinkhorn–Knopp, then make every ID unique with the next-best free last-level code.
    case sinkhorn(SinkhornPolicy)

    /// Every policy name accepted by `--collisions`.
    public static let names = ["none", "suffix", "sinkhorn"]

    /// Parses a `--collisions` value (`sinkhorn` with default settings).
    public init?(name: String) {
        switch name {
        case "none": self = .none
        case "suffix": self = .suffix
        case "sinkhorn": self = .sinkhorn(SinkhornPolicy())
        default: return nil
        }
    }

    /// The name used on the command line and in the manifest.
    public var name: String {
        switch self {
        case .none: return "none"
        case .suffix: return "suffix"
        case .sinkhorn: return "sinkhorn"
        }
    }

    /// The policy's ``name``.
    public var description: String { name }

    /// Whether final IDs have one more level than the quantizer.
    public var addsLevel: Bool { self == .suffix }

    /// Throws for invalid policy settings.
    public func validate() throws {
        if case .sinkhorn(let settings) = self { try settings.validate() }
    }

    /// The implementation of this policy.
    public var resolver: any CollisionResolver {
        switch self {
        case .none: return UnresolvedCollisions()
        case .suffix: return SuffixResolver()
        case .sinkhorn(let settings): return SinkhornResolver(settings: settings)
        }
    }

    private enum CodingKeys: String, CodingKey { case name, epsilon, iterations, rounds }

    /// Decodes `{"name": …}`, with `epsilon`, `iterations` and `rounds` for `sinkhorn`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .name)
        switch name {
        case "sinkhorn":
            self = .sinkhorn(SinkhornPolicy(
                epsilon: try c.decode(Double.self, forKey: .epsilon),
                iterations: try c.decode(Int.self, forKey: .iterations),
                rounds: try c.decode(Int.self, forKey: .rounds)))
        default:
            guard let policy = CollisionPolicy(name: name) else {
                throw DecodingError.dataCorruptedError(forKey: .name, in: c,
                    debugDescription: "unknown collision policy \"\(name)\" (known: \(Self.names.joined(separator: ", ")))")
            }
            self = policy
        }
    }

    /// Encodes `{"name": …}`, with the settings of `sinkhorn`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        if case .sinkhorn(let settings) = self {
            try c.encode(settings.epsilon, forKey: .epsilon)
            try c.encode(settings.iterations, forKey: .iterations)
            try c.encode(settings.rounds, forKey: .rounds)
        }
    }
}

/// Settings of the `sinkhorn` policy.
public struct SinkhornPolicy: Equatable, Sendable {
    /// Entropic regularisation on standardised distances (LC-Rec: 0.003).
    public var epsilon: Double
    /// Sinkhorn–Knopp iterations per round (LC-Rec: 50).
    public var iterations: Int
    /// Maximum Sinkhorn rounds before the deterministic finishing step.
    public var rounds: Int

    /// LC-Rec's settings with at most 20 rounds.
    public init(epsilon: Double = 0.003, iterations: Int = 50, rounds: Int = 20) {
        self.epsilon = epsilon
        self.iterations = iterations
        self.rounds = rounds
    }

    /// Throws for out-of-range settings.
    public func validate() throws {
        try Sinkhorn.Configuration(epsilon: epsilon, iterations: iterations).validate()
        if rounds < 0 {
            throw QuantizationError.invalidParameter(name: "sinkhorn.rounds", value: "\(rounds)", expected: "0 or more")
        }
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
            /// Movable items sharing their ID at the start of the round.
            public var collidingItems: Int
            /// Items whose last-level code the round changed.
            public var itemsMoved: Int
            /// Mean increase of the moved items' squared distance to their last-level code.
            public var meanErrorIncrease: Double
            /// `true` for sinkhorn's deterministic finishing step (nearest free code), absent for a
            /// Sinkhorn round (and in manifests written before this field existed).
            public var finish: Bool? = nil
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
    /// Final IDs for all items of a build from their raw codes (`[n, L]`), with `codebookSizes[l]`
    /// codes at level `l` (`L` entries).
    func resolve(raw: CodeMatrix, codebookSizes: [Int], context: ResolutionContext) throws -> CollisionResolution

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

    /// The raw codes, unchanged, with `codebookSizes[l]` codes at level `l`.
    public func resolve(raw: CodeMatrix, codebookSizes: [Int], context: ResolutionContext) throws -> CollisionResolution {
        CollisionResolution(ids: raw, codeSizes: codebookSizes,
                            summary: .init(itemsMoved: 0, suffixSize: nil, rounds: []))
    }

    /// The new items' raw codes, unchanged (collisions are kept).
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

    /// The raw codes plus a suffix level: each item's rank among items with the same raw codes.
    public func resolve(raw: CodeMatrix, codebookSizes: [Int], context: ResolutionContext) throws -> CollisionResolution {
        let (suffix, largest) = Self.ranks(of: raw)
        return CollisionResolution(
            ids: raw.appendingLevel(suffix),
            codeSizes: codebookSizes + [largest],
            summary: .init(itemsMoved: 0, suffixSize: largest, rounds: []))
    }

    /// Every row's rank among the rows with the same codes (0 for the first by row order, 1 for
    /// the next, …) and the size of the largest group (at least 1), by sorting (``CodeOrder``).
    ///
    /// Complexity: `O(n log n)` time, `O(n)` memory.
    static func ranks(of raw: CodeMatrix) -> (ranks: [Int32], largest: Int) {
        var ranks = [Int32](repeating: 0, count: raw.rows)
        var largest = 1
        let order = CodeOrder(raw)
        order.forEachGroup { run in
            for (rank, position) in run.enumerated() { ranks[order.rows[position]] = Int32(rank) }
            largest = max(largest, run.count)
        }
        return (ranks, largest)
    }

    /// The new items' raw codes plus the next free rank of their group; grows the suffix level if needed.
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

/// `sinkhorn` (LC-Rec's uniform semantic mapping, made exact): for items whose raw IDs collide,
/// the last-level code is re-assigned by a balanced Sinkhorn–Knopp assignment over their distances
/// to the last level's codes, for up to `rounds` rounds while collisions remain (stopping early
/// once a round shrinks the colliding set by less than 1%); then a
/// deterministic step gives every item still colliding the nearest last-level code that no other
/// item with the same prefix uses. IDs keep the quantizer's length, and all are unique unless some
/// prefix (first L−1 codes) holds more items than there are codes (then it is an error).
public struct SinkhornResolver: CollisionResolver {
    /// The settings.
    public var settings: SinkhornPolicy

    /// Creates the resolver.
    public init(settings: SinkhornPolicy) { self.settings = settings }

    /// Re-assigns the last level of colliding items (Sinkhorn rounds, then the deterministic finish).
    public func resolve(raw: CodeMatrix, codebookSizes: [Int], context: ResolutionContext) throws -> CollisionResolution {
        try settings.validate()
        var ids = raw
        let last = raw.levels - 1
        let lastSize = codebookSizes[last]
        var rounds: [CollisionResolution.Summary.Round] = []
        var moved = Set<Int>()
        // Distances of an item to every last-level code, computed once per item on demand.
        var distanceCache: [Int: [Float]] = [:]
        func distances(_ rows: [Int]) throws -> [[Float]] {
            let missing = rows.filter { distanceCache[$0] == nil }
            if !missing.isEmpty {
                let m = try context.lastLevelDistances(missing)
                for (r, item) in missing.enumerated() { distanceCache[item] = m.row(r) }
            }
            return rows.map { distanceCache[$0] ?? [] }
        }
        // Only items whose raw ID collides may move; an item with a unique raw ID keeps it.
        let movable = Set(Self.collidingItems(ids))
        for _ in 0..<settings.rounds {
            let colliding = Self.collidingItems(ids).filter { movable.contains($0) }
            if colliding.isEmpty { break }
            let d = try distances(colliding)
            let costs = Matrix(rows: colliding.count, cols: lastSize, values: d.flatMap { $0 })
            let assignment = Sinkhorn.assign(costs: costs, configuration: .init(epsilon: settings.epsilon, iterations: settings.iterations))
            var changed = 0
            var increase = 0.0
            for (r, item) in colliding.enumerated() {
                let old = Int(ids[item, last]), new = assignment[r]
                guard new != old else { continue }
                ids[item, last] = Int32(new)
                changed += 1
                increase += Double(d[r][new] - d[r][old])
                moved.insert(item)
            }
            rounds.append(.init(collidingItems: colliding.count, itemsMoved: changed,
                                meanErrorIncrease: changed > 0 ? increase / Double(changed) : 0))
            if changed == 0 { break }
            // Stop once a round no longer shrinks the colliding set by at least 1%.
            if rounds.count >= 2 {
                let before = rounds[rounds.count - 2].collidingItems
                if Double(before - colliding.count) < 0.01 * Double(before) { break }
            }
        }
        // Deterministic finish: next-best free last-level code.
        let colliding = Self.collidingItems(ids).filter { movable.contains($0) }
        if !colliding.isEmpty {
            let d = try distances(colliding)
            let byItem = Dictionary(uniqueKeysWithValues: zip(colliding, d))
            let (finished, changed, increase) = try Self.finish(ids: ids, colliding: colliding, distances: byItem,
                                                                lastLevelSize: lastSize)
            ids = finished
            for item in changed { moved.insert(item) }
            rounds.append(.init(collidingItems: colliding.count, itemsMoved: changed.count,
                                meanErrorIncrease: changed.isEmpty ? 0 : increase / Double(changed.count), finish: true))
        }
        // Items whose final code differs from the raw code.
        let itemsMoved = moved.filter { ids[$0, last] != raw[$0, last] }.count
        return CollisionResolution(ids: ids, codeSizes: codebookSizes,
                                   summary: .init(itemsMoved: itemsMoved, suffixSize: nil, rounds: rounds))
    }

    /// New items keep a free raw ID; the others take the nearest last-level code free under their prefix.
    public func extend(existingRaw: CodeMatrix, existingIDs: CodeMatrix, codeSizes: [Int],
                       newRaw: CodeMatrix, context: ResolutionContext) throws -> (ids: CodeMatrix, codeSizes: [Int]) {
        let last = newRaw.levels - 1
        var used = Set<ArraySlice<Int32>>(minimumCapacity: existingIDs.rows + newRaw.rows)
        for i in 0..<existingIDs.rows { used.insert(existingIDs.row(i)) }
        var ids = newRaw
        let taken = (0..<newRaw.rows).filter { used.contains(newRaw.row($0)) || !used.insert(newRaw.row($0)).inserted }
        // Items whose raw ID is free keep it (inserted above); the others take the nearest free code.
        if !taken.isEmpty {
            let d = try context.lastLevelDistances(taken)
            for (r, item) in taken.enumerated() {
                let order = (0..<d.cols).sorted { d[r, $0] != d[r, $1] ? d[r, $0] < d[r, $1] : $0 < $1 }
                var assigned = false
                for code in order {
                    ids[item, last] = Int32(code)
                    if used.insert(ids.row(item)).inserted { assigned = true; break }
                }
                if !assigned {
                    throw IndexError.inconsistentInput(
                        "new item \(existingIDs.rows + item): every last-level code under prefix \(Array(newRaw.row(item).dropLast())) is taken; rebuild with a larger --codebook-size or --collisions suffix")
                }
            }
        }
        return (ids, codeSizes)
    }

    /// Items that share their ID with another item, in item order.
    static func collidingItems(_ ids: CodeMatrix) -> [Int] {
        var counts: [ArraySlice<Int32>: Int] = [:]
        counts.reserveCapacity(ids.rows)
        for i in 0..<ids.rows { counts[ids.row(i), default: 0] += 1 }
        return (0..<ids.rows).filter { counts[ids.row($0), default: 0] > 1 }
    }

    /// Makes every ID unique. `colliding` are the movable items that share their ID (with each
    /// other or with an item that may not move). Within each group of equal IDs (groups in order of
    /// their first item), the item nearest to the shared code keeps it, unless an unmovable item
    /// holds it; the others, nearest first, take the nearest last-level code free under their prefix.
    static func finish(ids: CodeMatrix, colliding: [Int], distances: [Int: [Float]], lastLevelSize codebookSize: Int) throws
        -> (ids: CodeMatrix, changed: [Int], errorIncrease: Double)
    {
        var ids = ids
        let last = ids.levels - 1
        var used = Set<ArraySlice<Int32>>(minimumCapacity: ids.rows)
        let collidingSet = Set(colliding)
        for i in 0..<ids.rows where !collidingSet.contains(i) { used.insert(ids.row(i)) }
        var groups: [ArraySlice<Int32>: [Int]] = [:]
        var order: [ArraySlice<Int32>] = []
        for item in colliding {
            let key = ids.row(item)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(item)
        }
        var changed: [Int] = []
        var increase = 0.0
        for key in order {
            guard let members = groups[key] else { continue }
            let code = Int(key.last ?? 0)
            let ranked = members.sorted {
                let a = distances[$0]?[code] ?? 0, b = distances[$1]?[code] ?? 0
                return a != b ? a < b : $0 < $1
            }
            for (rank, item) in ranked.enumerated() {
                if rank == 0 && used.insert(ids.row(item)).inserted { continue }
                let d = distances[item] ?? []
                let candidates = (0..<codebookSize).sorted { d[$0] != d[$1] ? d[$0] < d[$1] : $0 < $1 }
                var assigned = false
                for c in candidates {
                    ids[item, last] = Int32(c)
                    if used.insert(ids.row(item)).inserted { assigned = true; break }
                }
                if !assigned {
                    throw IndexError.inconsistentInput(
                        "item \(item): all \(codebookSize) last-level codes under prefix \(Array(key.dropLast())) are taken; more items share that prefix than there are codes (use --collisions suffix or a larger --codebook-size)")
                }
                changed.append(item)
                increase += Double(d[Int(ids[item, last])] - d[code])
            }
        }
        return (ids, changed, increase)
    }
}
