import Foundation
import SemidMath

/// Where each packed sequence's tokens and attention matrices live.
///
/// Sequences of different lengths are packed without padding: tokens of sequence `s` are rows
/// `bounds[s]..<bounds[s+1]` of every `[N, ·]` activation, and its `T×T` attention matrix for head
/// `h` starts at `probabilityOffset(s, h)` in a flat buffer of ``probabilityCount`` values.
public struct PackedSequences: Sendable {
    /// `[S + 1]` token offsets.
    public private(set) var bounds: [Int]
    /// `[S + 1]` offsets of each sequence's `T²` block (per head multiply by `heads`).
    public private(set) var squareBounds: [Int]
    /// The longest sequence.
    public private(set) var maxLength: Int

    /// Packs sequences of the given lengths (each `≥ 1`).
    public init(lengths: [Int]) {
        var b = [0], q = [0]
        b.reserveCapacity(lengths.count + 1)
        q.reserveCapacity(lengths.count + 1)
        var longest = 0
        for t in lengths {
            b.append(b.last! + t)
            q.append(q.last! + t * t)
            longest = max(longest, t)
        }
        bounds = b
        squareBounds = q
        maxLength = longest
    }

    /// The number of sequences.
    public var count: Int { bounds.count - 1 }
    /// The number of tokens `N`.
    public var tokenCount: Int { bounds.last! }
    /// Values needed for the attention matrices of all heads.
    public func probabilityCount(heads: Int) -> Int { squareBounds.last! * heads }
    /// The length of sequence `s`.
    public func length(_ s: Int) -> Int { bounds[s + 1] - bounds[s] }
    /// The start of sequence `s`'s matrix for head `h`.
    public func probabilityOffset(_ s: Int, head h: Int, heads: Int) -> Int {
        squareBounds[s] * heads + h * length(s) * length(s)
    }
}

/// Causal multi-head scaled dot-product attention over packed sequences, with dropout on the
/// attention probabilities.
///
/// Input `qkv` is `[N, 3d]`: queries in columns `0..<d`, keys in `d..<2d`, values in `2d..<3d`;
/// head `h` uses columns `h·dₕ..<(h+1)·dₕ` of each (`dₕ = d/heads`). Output `[N, d]`, heads
/// concatenated. Token `i` of a sequence attends to tokens `0...i` of the same sequence, except
/// that tokens `1...firstKeyHidden[s]` of sequence `s` do not attend to its token 0 (a user-token
/// prefix they must not read). Per sequence and head the products are `sgemm` calls; sequences
/// run in parallel on all cores.
public enum CausalSelfAttention {
    /// Forward pass. Stores the softmax probabilities (before dropout) in `probabilities` and
    /// the dropout masks in `masks` (when `masks` is given; `nil` means no dropout).
    /// `firstKeyHidden` is empty or `[S]`: per sequence, how many tokens after the first may not
    /// attend to the first (their probability for it is 0; the backward pass needs no change).
    public static func forward(
        qkv: UnsafePointer<Float>, layout: PackedSequences, dim: Int, heads: Int,
        probabilities: UnsafeMutablePointer<Float>, masks: UnsafePointer<Float>?,
        firstKeyHidden: [Int32] = [], into output: UnsafeMutablePointer<Float>
    ) {
        precondition(firstKeyHidden.isEmpty || firstKeyHidden.count == layout.count)
        let dh = dim / heads, stride3 = 3 * dim
        let scale = 1 / Float(dh).squareRoot()
        let maxT = layout.maxLength
        let q0 = SharedMutablePointer(UnsafeMutablePointer(mutating: qkv))
        let pOut = SharedMutablePointer(probabilities), out = SharedMutablePointer(output)
        let mk = masks.map { SharedMutablePointer(UnsafeMutablePointer(mutating: $0)) }
        BLASRuntime.withThreadCount(1) {
            Parallel.forEachChunk(count: layout.count, minimumChunk: 8) { range in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, maxT * maxT))
                defer { scratch.deallocate() }
                for s in range {
                    let t = layout.length(s), row0 = layout.bounds[s]
                    let hiddenRows = firstKeyHidden.isEmpty ? 0 : min(t - 1, Int(firstKeyHidden[s]))
                    for h in 0..<heads {
                        let p = pOut.pointer + layout.probabilityOffset(s, head: h, heads: heads)
                        let q = UnsafePointer(q0.pointer) + row0 * stride3 + h * dh
                        let k = q + dim, v = q + 2 * dim
                        BLAS.sgemm(transposeB: true, m: t, n: t, k: dh, alpha: scale, a: q, lda: stride3,
                                   b: k, ldb: stride3, c: p, ldc: t)
                        for i in 0..<t {
                            let r = p + i * t
                            if i >= 1 && i <= hiddenRows {
                                r[0] = 0
                                FastMath.softmaxInPlace(r + 1, count: i)
                            } else {
                                FastMath.softmaxInPlace(r, count: i + 1)
                            }
                            for j in (i + 1)..<max(i + 1, t) { r[j] = 0 }
                        }
                        var used = UnsafePointer(p)
                        if let mk {
                            let m = mk.pointer + layout.probabilityOffset(s, head: h, heads: heads)
                            for j in 0..<(t * t) { scratch[j] = p[j] * m[j] }
                            used = UnsafePointer(scratch)
                        }
                        BLAS.sgemm(m: t, n: dh, k: t, a: used, lda: t, b: v, ldb: stride3,
                                   c: out.pointer + row0 * dim + h * dh, ldc: dim)
                    }
                }
            }
        }
    }

    /// Backward pass: from `dOutput` `[N, d]`, writes `dQKV` `[N, 3d]` (overwriting it).
    public static func backward(
        qkv: UnsafePointer<Float>, layout: PackedSequences, dim: Int, heads: Int,
        probabilities: UnsafePointer<Float>, masks: UnsafePointer<Float>?,
        gradient dOutput: UnsafePointer<Float>, into dQKV: UnsafeMutablePointer<Float>
    ) {
        let dh = dim / heads, stride3 = 3 * dim
        let scale = 1 / Float(dh).squareRoot()
        let maxT = layout.maxLength
        let q0 = SharedMutablePointer(UnsafeMutablePointer(mutating: qkv))
        let pIn = SharedMutablePointer(UnsafeMutablePointer(mutating: probabilities))
        let dOut = SharedMutablePointer(UnsafeMutablePointer(mutating: dOutput))
        let dq0 = SharedMutablePointer(dQKV)
        let mk = masks.map { SharedMutablePointer(UnsafeMutablePointer(mutating: $0)) }
        BLASRuntime.withThreadCount(1) {
            Parallel.forEachChunk(count: layout.count, minimumChunk: 8) { range in
                let n2 = max(1, maxT * maxT)
                let dp = UnsafeMutablePointer<Float>.allocate(capacity: n2)
                let pd = UnsafeMutablePointer<Float>.allocate(capacity: n2)
                defer { dp.deallocate(); pd.deallocate() }
                for s in range {
                    let t = layout.length(s), row0 = layout.bounds[s]
                    for h in 0..<heads {
                        let off = layout.probabilityOffset(s, head: h, heads: heads)
                        let p = UnsafePointer(pIn.pointer) + off
                        let q = UnsafePointer(q0.pointer) + row0 * stride3 + h * dh
                        let k = q + dim, v = q + 2 * dim
                        let dq = dq0.pointer + row0 * stride3 + h * dh
                        let dk = dq + dim, dv = dq + 2 * dim
                        let dO = UnsafePointer(dOut.pointer) + row0 * dim + h * dh
                        // P' = P ⊙ M (the probabilities actually used).
                        var used = p
                        if let mk {
                            let m = mk.pointer + off
                            for j in 0..<(t * t) { pd[j] = p[j] * m[j] }
                            used = UnsafePointer(pd)
                        }
                        // dV = P'ᵀ·dO ; dP' = dO·Vᵀ
                        BLAS.sgemm(transposeA: true, m: t, n: dh, k: t, a: used, lda: t, b: dO, ldb: dim,
                                   c: dv, ldc: stride3)
                        BLAS.sgemm(transposeB: true, m: t, n: t, k: dh, a: dO, lda: dim, b: v, ldb: stride3,
                                   c: dp, ldc: t)
                        if let mk {
                            let m = mk.pointer + off
                            for j in 0..<(t * t) { dp[j] *= m[j] }
                        }
                        // Softmax backward per row: dS = P ⊙ (dP − Σ P·dP), zero above the diagonal.
                        for i in 0..<t {
                            let pr = p + i * t, dr = dp + i * t
                            var dot: Float = 0
                            for j in 0...i { dot += pr[j] * dr[j] }
                            for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) }
                            for j in (i + 1)..<max(i + 1, t) { dr[j] = 0 }
                        }
                        // dQ = scale·dS·K ; dK = scale·dSᵀ·Q
                        BLAS.sgemm(m: t, n: dh, k: t, alpha: scale, a: dp, lda: t, b: k, ldb: stride3,
                                   c: dq, ldc: stride3)
                        BLAS.sgemm(transposeA: true, m: t, n: dh, k: t, alpha: scale, a: dp, lda: t, b: q, ldb: stride3,
                                   c: dk, ldc: stride3)
                    }
                }
            }
        }
    }
}
