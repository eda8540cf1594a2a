/// Least-significant-digit radix sort of `UInt64` keys.
package enum RadixSort {
    /// Sorts `values` stably by bits `lowBit ..< lowBit + bitCount` (11-bit digits), ignoring
    /// the other bits. `O(passes · n)` time, one extra array of `n` values.
    package static func sort(_ values: inout [UInt64], lowBit: Int, bitCount: Int) {
        let n = values.count
        guard n > 1, bitCount > 0 else { return }
        let digitBits = 11
        var scratch = [UInt64](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: (1 << digitBits) + 1)
        var shift = lowBit
        let end = lowBit + bitCount
        while shift < end {
            let width = min(digitBits, end - shift)
            let mask = (UInt64(1) << UInt64(width)) - 1
            let s = UInt64(shift)
            values.withUnsafeBufferPointer { src in
                scratch.withUnsafeMutableBufferPointer { dst in
                    counts.withUnsafeMutableBufferPointer { cnt in
                        for i in 0...Int(mask + 1) { cnt[i] = 0 }
                        for i in 0..<n { cnt[Int((src[i] >> s) & mask) + 1] += 1 }
                        for d in 0..<Int(mask + 1) { cnt[d + 1] += cnt[d] }
                        for i in 0..<n {
                            let d = Int((src[i] >> s) & mask)
                            dst[cnt[d]] = src[i]
                            cnt[d] += 1
                        }
                    }
                }
            }
            swap(&values, &scratch)
            shift += width
        }
    }
}
