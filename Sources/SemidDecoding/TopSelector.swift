/// A candidate in the top-`B` selection: an order key and what the candidate is.
struct Entry {
    /// Larger is better: the score's order-preserving bits in the high half, the complemented
    /// tie-break key (child node or item id) in the low half, so one integer comparison ranks by
    /// (score descending, key ascending). Unique within one selection.
    var key: UInt64
    /// `parentBeam << 32 | token`.
    var payload: UInt64
}

/// Score/key encoding for ``Entry/key``.
enum EntryKey {
    /// The order key of `(score, tie)`: higher score first, then lower `tie`. NaN ranks below
    /// every number (score bits 0); `−0` is ranked as `+0`.
    @inline(__always)
    static func make(score: Float, tie: Int32) -> UInt64 {
        let low = UInt64(UInt32.max - UInt32(truncatingIfNeeded: tie))
        if score.isNaN { return low }
        let bits = (score + 0).bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(ordered) << 32 | low
    }

    /// The score of an order key (NaN comes back as `−∞`).
    @inline(__always)
    static func score(_ key: UInt64) -> Float {
        let ordered = UInt32(truncatingIfNeeded: key >> 32)
        if ordered == 0 { return -Float.infinity }
        let bits = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
        return Float(bitPattern: bits)
    }

    /// The tie-break key of an order key.
    @inline(__always)
    static func tie(_ key: UInt64) -> Int32 {
        Int32(truncatingIfNeeded: UInt32.max - UInt32(truncatingIfNeeded: key))
    }
}

/// Keeps the best `keep` of a stream of candidates in caller-owned storage (no allocation).
///
/// Candidates are appended to a buffer of `capacity > keep` entries; when it fills, a
/// quickselect moves the best `keep` to the front and the worst of them becomes the admission
/// threshold. So admitting a candidate costs an append, not a heap update, and the float
/// threshold ``thresholdScore`` lets callers reject most candidates (16 at a time) before
/// computing their keys.
struct TopSelector {
    let slots: UnsafeMutablePointer<Entry>
    let capacity: Int
    private(set) var count = 0
    private(set) var keep = 0
    /// Candidates need a key of at least this to be kept.
    private(set) var minimumKey: UInt64 = 0
    /// A candidate whose score is below this cannot be kept; `−∞` until a threshold exists
    /// (then nothing, not even NaN, may be rejected by score alone).
    private(set) var thresholdScore: Float = -.infinity

    init(slots: UnsafeMutablePointer<Entry>, capacity: Int) {
        self.slots = slots
        self.capacity = capacity
    }

    /// Starts a new selection of the best `keep` (`< capacity`) candidates.
    @inline(__always)
    mutating func reset(keep: Int) {
        count = 0
        self.keep = keep
        minimumKey = 0
        thresholdScore = -.infinity
    }

    /// Rejects from now on every candidate scoring below `score`. Only valid when at least `keep`
    /// candidates scoring `≥ score` are certain to be offered (and admitted) later.
    @inline(__always)
    mutating func raiseFloor(to score: Float) {
        guard score > thresholdScore else { return }
        thresholdScore = score
        minimumKey = max(minimumKey, EntryKey.make(score: score, tie: Int32.max))
    }

    /// Adds a candidate whose key is at least ``minimumKey``.
    @inline(__always)
    mutating func append(key: UInt64, payload: UInt64) {
        slots[count] = Entry(key: key, payload: payload)
        count += 1
        if count == capacity { compact() }
    }

    /// Keeps the best `keep` entries and raises the threshold to the worst of them.
    mutating func compact() {
        guard count > keep else { return }
        TopSelector.selectLargest(slots, count: count, keep: keep)
        count = keep
        let worst = slots[keep - 1].key
        minimumKey = worst &+ 1
        let s = EntryKey.score(worst)
        // A NaN-ranked or −∞ worst entry gives no usable score threshold.
        thresholdScore = UInt32(truncatingIfNeeded: worst >> 32) == 0 ? -.infinity : s
    }

    /// Ends the selection: at most `keep` entries remain.
    mutating func finish() {
        if count > keep {
            TopSelector.selectLargest(slots, count: count, keep: keep)
            count = keep
        }
    }

    /// Sorts the entries by key, largest (best) first.
    func sortDescending() {
        if count <= 32 {
            var i = 1
            while i < count {
                let e = slots[i]
                var j = i
                while j > 0 && slots[j - 1].key < e.key { slots[j] = slots[j - 1]; j -= 1 }
                slots[j] = e
                i += 1
            }
            return
        }
        // Heapsort with a min-heap: the smallest goes to the end each round.
        func siftDown(_ start: Int, _ end: Int) {
            var i = start
            let e = slots[i]
            while true {
                var c = 2 * i + 1
                if c >= end { break }
                if c + 1 < end && slots[c + 1].key < slots[c].key { c += 1 }
                if slots[c].key < e.key { slots[i] = slots[c]; i = c } else { break }
            }
            slots[i] = e
        }
        var s = count / 2
        while s > 0 { s -= 1; siftDown(s, count) }
        var end = count
        while end > 1 {
            end -= 1
            let t = slots[0]; slots[0] = slots[end]; slots[end] = t
            siftDown(0, end)
        }
    }

    /// Moves the best entry to the front.
    func moveBestFirst() {
        guard count > 1 else { return }
        var best = 0
        for i in 1..<count where slots[i].key > slots[best].key { best = i }
        if best != 0 { let t = slots[0]; slots[0] = slots[best]; slots[best] = t }
    }

    /// Quickselect: afterwards `a[0..<keep]` are the `keep` largest keys (unordered) and
    /// `a[keep - 1]` is the smallest of them. Keys must be distinct. `0 < keep < count`.
    /// Branch-free partitioning (the comparisons are unpredictable, so branches would cost a
    /// misprediction each).
    static func selectLargest(_ a: UnsafeMutablePointer<Entry>, count: Int, keep: Int) {
        let target = keep - 1
        var lo = 0, hi = count - 1
        while lo < hi {
            // Median of three as pivot, moved to `hi`.
            let mid = (lo + hi) >> 1
            let x = a[lo].key, y = a[mid].key, z = a[hi].key
            let pivot = max(min(x, y), min(max(x, y), z))
            let p = pivot == x ? lo : (pivot == y ? mid : hi)
            let t = a[p]; a[p] = a[hi]; a[hi] = t
            // Lomuto: a[lo..<store] > pivot, a[store..<i] < pivot.
            var store = lo
            var i = lo
            while i < hi {
                let e = a[i]
                a[i] = a[store]
                a[store] = e
                store &+= e.key > pivot ? 1 : 0
                i += 1
            }
            let u = a[store]; a[store] = a[hi]; a[hi] = u
            if target < store { hi = store - 1 } else if target > store { lo = store + 1 } else { return }
        }
    }
}
