/// How much each quantizer level refines the IDs of the levels before it, from the distinct raw-ID
/// prefixes after every level: what `semid build` checks to warn about a near-degenerate level.
///
/// After level `l` (1-based) an index of `n` items has `p_l` distinct raw-ID prefixes of length `l`.
/// Level `l` can at most reach `min(n, p_{l−1} · K_l)` (with `p_0 = 1`), so its **gain** is
/// `(p_l − p_{l−1}) / (min(n, p_{l−1} · K_l) − p_{l−1})`: the share of the new prefixes it could
/// have made that it did make (1 when none were possible, e.g. every prefix was already unique).
/// A level whose gain is below ``minimumGain`` splits almost no group of the levels before it: it
/// lengthens the ID without telling items apart.
public struct LevelGrowth: Codable, Equatable, Sendable {
    /// 1-based level.
    public var level: Int
    /// Codes at the level, `K_l`.
    public var codebookSize: Int
    /// Distinct raw-ID prefixes of length `level`, `p_l`.
    public var distinctPrefixes: Int
    /// Distinct prefixes before the level, `p_{l−1}` (1 before the first level).
    public var previousPrefixes: Int
    /// The most prefixes the level could have reached, `min(items, p_{l−1} · K_l)`.
    public var possiblePrefixes: Int
    /// `(p_l − p_{l−1}) / (possible − p_{l−1})` in `[0, 1]`; 1 when `possible == p_{l−1}`.
    public var gain: Double

    /// Levels below this gain are near-degenerate: they made fewer than 10% of the new prefixes
    /// they could have.
    public static let minimumGain = 0.1

    /// Whether the level made fewer than ``minimumGain`` of the new prefixes it could have.
    public var isNearDegenerate: Bool { gain < Self.minimumGain }

    /// The growth of every level from the distinct prefixes after each level (`p_l`, one per
    /// level) of `items` items with `codebookSizes[l]` codes at level `l` (a missing size counts
    /// as 1). O(L).
    public static func levels(distinctPrefixes: [Int], codebookSizes: [Int], items: Int) -> [LevelGrowth] {
        var out: [LevelGrowth] = []
        out.reserveCapacity(distinctPrefixes.count)
        var previous = 1
        for (l, p) in distinctPrefixes.enumerated() {
            let k = l < codebookSizes.count ? max(codebookSizes[l], 1) : 1
            let product = previous.multipliedReportingOverflow(by: k)
            let possible = max(previous, min(items, product.overflow ? Int.max : product.partialValue))
            let gain = possible > previous ? Double(p - previous) / Double(possible - previous) : 1
            out.append(LevelGrowth(level: l + 1, codebookSize: k, distinctPrefixes: p, previousPrefixes: previous,
                                   possiblePrefixes: possible, gain: max(0, min(1, gain))))
            previous = p
        }
        return out
    }

    /// The growth of every quantizer level of an index, from its report's per-level figures. O(L).
    public static func levels(of report: CollisionReport) -> [LevelGrowth] {
        levels(distinctPrefixes: report.perLevel.map(\.distinctPrefixes),
               codebookSizes: report.perLevel.map(\.codebookSize), items: report.items)
    }
}
