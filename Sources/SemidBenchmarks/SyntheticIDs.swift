import Foundation
import SemidDecoding
import SemidMath

/// Synthetic semantic-ID matrices for benchmarks: unique IDs with the skew real quantizers
/// produce (a few coarse clusters hold many items).
public enum SyntheticIDs {
    /// `items` unique IDs of `levels` codes in `0..<codebookSize`, row-major `[items, levels]`.
    ///
    /// Level 0 follows a Zipf law with exponent `firstLevelExponent` (1.0: the largest cluster
    /// holds ~16% of items at `K = 256`), inner levels a Zipf law with exponent `innerExponent`
    /// over a permutation that depends on the prefix (so each node has its own popular
    /// children), the last level is uniform. Rows that collide are re-drawn until unique (the
    /// most popular prefixes fill up completely, giving full fan-out nodes at every level).
    /// Deterministic for a seed, whatever the number of cores.
    ///
    /// - Throws: ``DecodingError/invalidShape(_:)`` when the ID space `codebookSize^levels` is not
    ///   at least twice `items` or does not fit 63 bits, or sizes are out of range.
    public static func make(items: Int, levels: Int, codebookSize: Int, seed: UInt64,
                            firstLevelExponent: Double = 1.0, innerExponent: Double = 0.6) throws -> [Int32] {
        guard items >= 1, levels >= 1, (2...65536).contains(codebookSize) else {
            throw DecodingError.invalidShape("synthetic IDs need items ≥ 1, levels ≥ 1 and a codebook size in 2...65536")
        }
        let levelBits = Int.bitWidth - (codebookSize - 1).leadingZeroBitCount
        let keyBits = levelBits * levels
        let itemBits = max(1, Int.bitWidth - (items - 1).leadingZeroBitCount)
        guard keyBits <= 63 else { throw DecodingError.invalidShape("\(levels) levels of \(codebookSize) codes do not fit a 63-bit key") }
        guard pow(Double(codebookSize), Double(levels)) >= 2 * Double(items) else {
            throw DecodingError.invalidShape("\(codebookSize)^\(levels) IDs are fewer than twice \(items) items")
        }
        let k = codebookSize
        func cdf(_ exponent: Double) -> [Double] {
            var c = [Double](repeating: 0, count: k)
            var total = 0.0
            for r in 0..<k { total += 1 / pow(Double(r + 1), exponent); c[r] = total }
            return c.map { $0 / total }
        }
        let cdfs: [[Double]] = (0..<levels).map { l in
            l == 0 ? cdf(firstLevelExponent) : (l == levels - 1 ? cdf(0) : cdf(innerExponent))
        }
        let root = SeededGenerator(seed: seed)
        var codes = [Int32](repeating: 0, count: items * levels)

        func draw(_ rng: inout SeededGenerator, into row: UnsafeMutablePointer<Int32>, uniform: Bool) {
            var prefixHash: UInt64 = 0x5851_F42D_4C95_7F2D
            for l in 0..<levels {
                let rank: Int
                if uniform {
                    rank = rng.nextInt(below: k)
                } else {
                    let u = rng.nextUnitDouble()
                    rank = cdfs[l].withUnsafeBufferPointer { c in
                        var lo = 0, hi = k - 1
                        while lo < hi { let mid = (lo + hi) >> 1; if c[mid] < u { lo = mid + 1 } else { hi = mid } }
                        return lo
                    }
                }
                let code = (rank + Int(prefixHash % UInt64(k))) % k
                row[l] = Int32(code)
                prefixHash = TableScorer.mix(prefixHash ^ UInt64(code))
            }
        }

        let block = 65536
        let blocks = (items + block - 1) / block
        codes.withUnsafeMutableBufferPointer { out in
            let base = SharedMutablePointer(out.baseAddress!)
            Parallel.forEachChunk(count: blocks) { range in
                for b in range {
                    var rng = root.derived(UInt64(b))
                    for i in (b * block)..<min(items, (b + 1) * block) {
                        draw(&rng, into: base.pointer + i * levels, uniform: false)
                    }
                }
            }
        }

        func key(_ row: UnsafePointer<Int32>) -> UInt64 {
            var x: UInt64 = 0
            for l in 0..<levels { x = x << UInt64(levelBits) | UInt64(row[l]) }
            return x
        }
        // Find duplicates: sort (key, item) pairs packed in one word when they fit.
        var duplicates: [Int] = []
        var sortedKeys: [UInt64] = []
        if keyBits + itemBits <= 64 {
            var packed = [UInt64](repeating: 0, count: items)
            codes.withUnsafeBufferPointer { c in
                for i in 0..<items { packed[i] = key(c.baseAddress! + i * levels) << UInt64(itemBits) | UInt64(i) }
            }
            RadixSort.sort(&packed, lowBit: itemBits, bitCount: keyBits)
            sortedKeys.reserveCapacity(items)
            for j in 0..<items {
                let kj = packed[j] >> UInt64(itemBits)
                if j > 0 && kj == (packed[j - 1] >> UInt64(itemBits)) {
                    duplicates.append(Int(packed[j] & ((UInt64(1) << UInt64(itemBits)) - 1)))
                } else {
                    sortedKeys.append(kj)
                }
            }
        } else {
            var order = codes.withUnsafeBufferPointer { c in (0..<items).map { (key(c.baseAddress! + $0 * levels), $0) } }
            order.sort { $0 < $1 }
            for j in 0..<items {
                if j > 0 && order[j].0 == order[j - 1].0 { duplicates.append(order[j].1) } else { sortedKeys.append(order[j].0) }
            }
        }
        guard !duplicates.isEmpty else { return codes }
        duplicates.sort()
        var rng = root.derived(UInt64(blocks) + 1)
        var extra = Set<UInt64>()
        var row = [Int32](repeating: 0, count: levels)
        for item in duplicates {
            var attempts = 0
            while true {
                let candidate: UInt64 = row.withUnsafeMutableBufferPointer { r in
                    draw(&rng, into: r.baseAddress!, uniform: attempts >= 64)
                    return key(r.baseAddress!)
                }
                attempts += 1
                let taken = sortedKeys.withUnsafeBufferPointer { s -> Bool in
                    var lo = 0, hi = s.count
                    while lo < hi { let mid = (lo + hi) >> 1; if s[mid] < candidate { lo = mid + 1 } else { hi = mid } }
                    return lo < s.count && s[lo] == candidate
                }
                if !taken && extra.insert(candidate).inserted { break }
                if attempts > 100_000 { throw DecodingError.invalidShape("could not find a free ID for item \(item)") }
            }
            for l in 0..<levels { codes[item * levels + l] = row[l] }
        }
        return codes
    }
}
