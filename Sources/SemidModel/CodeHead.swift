import Dispatch
import Foundation
import SemidDecoding
import SemidMath
import SemidNeuralNetwork

/// The autoregressive code head: predicts an item's semantic ID level by level from the user
/// state `h`, each level conditioned on the codes already chosen.
///
/// For level `l` with prefix codes `c_0 … c_{l−1}`:
/// `z = h + Σ_{j<l} A_j[c_j]` (prefix embeddings), `u = z + W₂·GELU(W₁·LN(z) + b₁) + b₂`,
/// `logits = LN′(u)·C_lᵀ + b_l` over the `K_l` codes, and a softmax restricted (when
/// ``ModelConfiguration/maskCodeSoftmax``) to the codes that exist under the prefix in the trie,
/// which is exactly what constrained decoding allows. Training: teacher forcing on the target
/// item's codes, cross-entropy summed over levels.
public final class CodeHead: @unchecked Sendable {
    let levels: Int
    let sizes: [Int]
    let d: Int
    let hiddenWidth: Int
    let masked: Bool
    let trie: CodeTrie
    /// `[depth][item]` the trie node of each item's prefix of length `depth` (`0..<L`).
    let prefixNodes: [[Int32]]
    let codes: ItemCodes

    init(configuration c: ModelConfiguration, items: ItemCodes, trie: CodeTrie, registeringIn p: ParameterSet,
         generator rng: inout SeededGenerator) throws {
        guard trie.codebookSizes == items.codebookSizes, trie.itemCount == items.itemCount else {
            throw ModelError.inconsistentInput("the trie does not match the item IDs")
        }
        levels = items.levels
        sizes = items.codebookSizes
        d = c.dimension
        hiddenWidth = c.codeHeadHidden
        masked = c.maskCodeSoftmax
        self.trie = trie
        self.codes = items
        var nodes = [[Int32]](repeating: [Int32](repeating: 0, count: items.itemCount), count: items.levels)
        for i in 0..<items.itemCount {
            var node = 0
            for depth in 0..<items.levels {
                nodes[depth][i] = Int32(node)
                guard let next = trie.child(ofNode: node, atDepth: depth, token: Int(items.codes[i * items.levels + depth])) else {
                    throw ModelError.inconsistentInput("item \(i)'s ID is not in the trie")
                }
                node = next
            }
        }
        prefixNodes = nodes
        func normal(_ count: Int, _ std: Float) -> [Float] { (0..<count).map { _ in std * rng.nextGaussian() } }
        let h = hiddenWidth
        for j in 0..<max(0, levels - 1) {
            p.add("head.prefix.\(j)", shape: [sizes[j], d], decay: false, values: normal(sizes[j] * d, 0.05))
        }
        for l in 0..<levels {
            let pre = "head.\(l)."
            p.add(pre + "ln.gamma", shape: [d], decay: false) { _ in 1 }
            p.add(pre + "ln.beta", shape: [d], decay: false) { _ in 0 }
            p.add(pre + "ff1.weight", shape: [d, h], decay: true, values: normal(d * h, (2 / Float(d + h)).squareRoot()))
            p.add(pre + "ff1.bias", shape: [h], decay: false) { _ in 0 }
            p.add(pre + "ff2.weight", shape: [h, d], decay: true, values: normal(d * h, (2 / Float(d + h)).squareRoot()))
            p.add(pre + "ff2.bias", shape: [d], decay: false) { _ in 0 }
            p.add(pre + "norm.gamma", shape: [d], decay: false) { _ in 1 }
            p.add(pre + "norm.beta", shape: [d], decay: false) { _ in 0 }
            p.add(pre + "codes", shape: [sizes[l], d], decay: false, values: normal(sizes[l] * d, 0.05))
            p.add(pre + "bias", shape: [sizes[l]], decay: false) { _ in 0 }
        }
    }

    /// Buffers for one level over up to `rows` rows.
    final class Buffers: @unchecked Sendable {
        var z = FloatBuffer(count: 1), a = FloatBuffer(count: 1), aNorm = FloatBuffer(count: 1), aRstd = FloatBuffer(count: 1)
        var pre = FloatBuffer(count: 1), g = FloatBuffer(count: 1), u = FloatBuffer(count: 1)
        var o = FloatBuffer(count: 1), oNorm = FloatBuffer(count: 1), oRstd = FloatBuffer(count: 1)
        var logits = FloatBuffer(count: 1), allowed = FloatBuffer(count: 1), rowLoss = FloatBuffer(count: 1)
        var dz = FloatBuffer(count: 1), du = FloatBuffer(count: 1), dg = FloatBuffer(count: 1), da = FloatBuffer(count: 1)
        var targets: [Int32] = []

        func reserve(rows r: Int, d: Int, hidden h: Int, k: Int) {
            for b in [z, a, aNorm, u, o, oNorm, dz, du, da] { b.reserve(r * d) }
            for b in [aRstd, oRstd, rowLoss] { b.reserve(r) }
            for b in [pre, g, dg] { b.reserve(r * h) }
            logits.reserve(r * k); allowed.reserve(r * k)
        }
    }

    /// The level-`l` network from `buf.z` (`[rows, d]`) to `buf.logits` (`[rows, K_l]`), keeping
    /// intermediates for ``levelBackward``.
    func levelForward(_ l: Int, rows: Int, buffers buf: Buffers, parameters p: ParameterSet) {
        let pre = "head.\(l).", k = sizes[l], h = hiddenWidth
        LayerNorm.forward(buf.z.pointer, rows: rows, dim: d, gamma: p.value(pre + "ln.gamma"), beta: p.value(pre + "ln.beta"),
                          into: buf.a.pointer, normalized: buf.aNorm.pointer, inverseStd: buf.aRstd.pointer)
        DenseLayer(inputs: d, outputs: h, layout: .inputsByOutputs).forward(buf.a.pointer, rows: rows, weight: p.value(pre + "ff1.weight"),
                       bias: p.value(pre + "ff1.bias"), output: buf.pre.pointer)
        Activation.gelu.forward(buf.pre.pointer, count: rows * h, into: buf.g.pointer)
        DenseLayer(inputs: h, outputs: d, layout: .inputsByOutputs).forward(buf.g.pointer, rows: rows, weight: p.value(pre + "ff2.weight"),
                       bias: p.value(pre + "ff2.bias"), output: buf.u.pointer)
        let u = buf.u.pointer, z = buf.z.pointer
        for i in 0..<(rows * d) { u[i] += z[i] }
        LayerNorm.forward(u, rows: rows, dim: d, gamma: p.value(pre + "norm.gamma"), beta: p.value(pre + "norm.beta"),
                          into: buf.o.pointer, normalized: buf.oNorm.pointer, inverseStd: buf.oRstd.pointer)
        let logits = buf.logits.pointer, bias = p.value(pre + "bias")
        for r in 0..<rows { (logits + r * k).update(from: bias, count: k) }
        BLAS.sgemm(transposeB: true, m: rows, n: k, k: d, a: buf.o.pointer, lda: d, b: p.value(pre + "codes"), ldb: d,
                   beta: 1, c: logits, ldc: k)
    }

    /// From `buf.logits` holding `∂loss/∂logits`: accumulates the level's parameter gradients
    /// and writes `∂loss/∂z` to `buf.dz`.
    func levelBackward(_ l: Int, rows: Int, buffers buf: Buffers, parameters p: ParameterSet) {
        let pre = "head.\(l).", k = sizes[l], h = hiddenWidth
        let dlogits = buf.logits.pointer
        BLAS.sgemm(transposeA: true, m: k, n: d, k: rows, a: dlogits, lda: k, b: buf.o.pointer, ldb: d, beta: 1,
                   c: p.gradient(pre + "codes"), ldc: d)
        DenseLayer.addRows(dlogits, rows: rows, cols: k, into: p.gradient(pre + "bias"))
        // do = dlogits · C  (into da as scratch)
        BLAS.sgemm(m: rows, n: d, k: k, a: dlogits, lda: k, b: p.value(pre + "codes"), ldb: d, c: buf.da.pointer, ldc: d)
        LayerNorm.backward(gradient: buf.da.pointer, rows: rows, dim: d, gamma: p.value(pre + "norm.gamma"),
                           normalized: buf.oNorm.pointer, inverseStd: buf.oRstd.pointer,
                           gammaGradient: p.gradient(pre + "norm.gamma"), betaGradient: p.gradient(pre + "norm.beta"),
                           inputGradient: buf.du.pointer)
        // u = z + FFN(LN(z)): dz = du + LNᵀ(W₁ᵀ(GELU′ ⊙ W₂ᵀ du))
        buf.dz.pointer.update(from: buf.du.pointer, count: rows * d)
        DenseLayer(inputs: h, outputs: d, layout: .inputsByOutputs).backward(input: buf.g.pointer, rows: rows, weight: p.value(pre + "ff2.weight"),
                        outputGradient: buf.du.pointer, weightGradient: p.gradient(pre + "ff2.weight"),
                        biasGradient: p.gradient(pre + "ff2.bias"), inputGradient: buf.dg.pointer, accumulate: true)
        Activation.gelu.backward(buf.pre.pointer, gradient: buf.dg.pointer, count: rows * h, into: buf.dg.pointer)
        DenseLayer(inputs: d, outputs: h, layout: .inputsByOutputs).backward(input: buf.a.pointer, rows: rows, weight: p.value(pre + "ff1.weight"),
                        outputGradient: buf.dg.pointer, weightGradient: p.gradient(pre + "ff1.weight"),
                        biasGradient: p.gradient(pre + "ff1.bias"), inputGradient: buf.da.pointer, accumulate: true)
        LayerNorm.backward(gradient: buf.da.pointer, rows: rows, dim: d, gamma: p.value(pre + "ln.gamma"),
                           normalized: buf.aNorm.pointer, inverseStd: buf.aRstd.pointer,
                           gammaGradient: p.gradient(pre + "ln.gamma"), betaGradient: p.gradient(pre + "ln.beta"),
                           inputGradient: buf.dz.pointer, accumulate: true)
    }

    /// Writes `1` for the codes that exist under trie node `node` (depth `l`) and `0` elsewhere.
    @inline(__always)
    func fillAllowed(_ row: UnsafeMutablePointer<Float>, level l: Int, node: Int) {
        row.update(repeating: 0, count: sizes[l])
        for child in trie.children(ofNode: node, atDepth: l) {
            row[trie.token(ofNode: child, atDepth: l + 1)!] = 1
        }
    }

    /// Teacher-forced loss over the positions of `batch` with a target, summed over levels;
    /// adds `weight ×` its gradient to the parameters and to `ws.dHidden`.
    func lossAndGradient(_ batch: TrainingBatch, model: NextItemModel, workspace ws: ModelWorkspace, weight: Float) -> Double {
        let p = model.parameters
        let rowsIndex = batch.targets.indices.filter { batch.targets[$0] >= 0 }
        let rows = rowsIndex.count
        guard rows > 0 else { return 0 }
        let buf: Buffers
        if let existing = ws.codeHeadBuffers as? Buffers { buf = existing } else { buf = Buffers(); ws.codeHeadBuffers = buf }
        buf.reserve(rows: rows, d: d, hidden: hiddenWidth, k: sizes.max() ?? 1)
        var total = 0.0
        let prefixTables = (0..<max(0, levels - 1)).map { p.value("head.prefix.\($0)") }
        let prefixGradients = (0..<max(0, levels - 1)).map { p.gradient("head.prefix.\($0)") }
        for l in 0..<levels {
            let tStart = DispatchTime.now().uptimeNanoseconds
            let k = sizes[l]
            // z = h + Σ_{j<l} A_j[c_j(target)]
            let z = buf.z.pointer
            for (r, pos) in rowsIndex.enumerated() {
                (z + r * d).update(from: ws.hidden.pointer + pos * d, count: d)
                let item = Int(batch.targets[pos])
                for j in 0..<l {
                    let e = prefixTables[j] + Int(codes.codes[item * levels + j]) * d
                    for x in 0..<d { z[r * d + x] += e[x] }
                }
            }
            levelForward(l, rows: rows, buffers: buf, parameters: p)
            buf.targets.removeAll(keepingCapacity: true)
            for pos in rowsIndex { buf.targets.append(codes.codes[Int(batch.targets[pos]) * levels + l]) }
            if masked {
                for (r, pos) in rowsIndex.enumerated() {
                    fillAllowed(buf.allowed.pointer + r * k, level: l, node: Int(prefixNodes[l][Int(batch.targets[pos])]))
                }
            }
            total += buf.targets.withUnsafeBufferPointer { t in
                SoftmaxCrossEntropy.lossAndGradient(logits: buf.logits.pointer, rows: rows, classes: k, targets: t.baseAddress!,
                                                    weight: weight, allowed: masked ? buf.allowed.pointer : nil,
                                                    rowLoss: buf.rowLoss.pointer)
            }
            let tMid = DispatchTime.now().uptimeNanoseconds
            levelBackward(l, rows: rows, buffers: buf, parameters: p)
            let dz = buf.dz.pointer
            for (r, pos) in rowsIndex.enumerated() {
                let dh = ws.dHidden.pointer + pos * d
                for x in 0..<d { dh[x] += dz[r * d + x] }
                let item = Int(batch.targets[pos])
                for j in 0..<l {
                    let g = prefixGradients[j] + Int(codes.codes[item * levels + j]) * d
                    for x in 0..<d { g[x] += dz[r * d + x] }
                }
            }
            let tEnd = DispatchTime.now().uptimeNanoseconds
            ws.timers.forward += Double(tMid - tStart) / 1e9
            ws.timers.backward += Double(tEnd - tMid) / 1e9
        }
        return total
    }
}
