import Foundation
import SemidMath
@testable import SemidNeuralNetwork
import SemidTestSupport
import Testing
@testable import SemidModel

@Suite("Layer backward passes vs finite differences")
struct LayerGradientTests {
    @Test func linear() {
        var rng = SeededGenerator(seed: 1)
        let rows = 5, inputs = 4, outputs = 3
        let layer = DenseLayer(inputs: inputs, outputs: outputs, layout: .inputsByOutputs)
        let x = GradientCheck.random(rows * inputs, &rng), w = GradientCheck.random(inputs * outputs, &rng, scale: 0.5)
        let b = GradientCheck.random(outputs, &rng), r = GradientCheck.random(rows * outputs, &rng)
        func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
            var y = [Float](repeating: 0, count: rows * outputs)
            y.ptr { layer.forward(x, rows: rows, weight: w, bias: b, output: $0) }
            return GradientCheck.dot(y, r)
        }
        var dw = [Float](repeating: 0, count: w.count), db = [Float](repeating: 0, count: b.count)
        var dx = [Float](repeating: 0, count: x.count)
        dw.ptr { dwp in db.ptr { dbp in dx.ptr { dxp in
            layer.backward(input: x, rows: rows, weight: w, outputGradient: r,
                           weightGradient: dwp, biasGradient: dbp, inputGradient: dxp, accumulate: true)
        } } }
        GradientCheck.check("linear.x", x: x, analytic: dx) { loss($0, w, b) }
        GradientCheck.check("linear.w", x: w, analytic: dw) { loss(x, $0, b) }
        GradientCheck.check("linear.b", x: b, analytic: db) { loss(x, w, $0) }
    }

    @Test func layerNorm() {
        var rng = SeededGenerator(seed: 2)
        let rows = 4, dim = 6
        let x = GradientCheck.random(rows * dim, &rng, scale: 2)
        let gamma = GradientCheck.random(dim, &rng).map { 1 + 0.3 * $0 }, beta = GradientCheck.random(dim, &rng)
        let r = GradientCheck.random(rows * dim, &rng)
        func loss(_ x: [Float], _ g: [Float], _ b: [Float]) -> Double {
            var y = [Float](repeating: 0, count: rows * dim), n = y, s = [Float](repeating: 0, count: rows)
            y.ptr { yp in n.ptr { np in s.ptr { sp in
                LayerNorm.forward(x, rows: rows, dim: dim, gamma: g, beta: b, into: yp, normalized: np, inverseStd: sp)
            } } }
            return GradientCheck.dot(y, r)
        }
        var y = [Float](repeating: 0, count: rows * dim), n = y, s = [Float](repeating: 0, count: rows)
        y.ptr { yp in n.ptr { np in s.ptr { sp in
            LayerNorm.forward(x, rows: rows, dim: dim, gamma: gamma, beta: beta, into: yp, normalized: np, inverseStd: sp)
        } } }
        var dg = [Float](repeating: 0, count: dim), db = dg, dx = [Float](repeating: 0, count: rows * dim)
        dg.ptr { dgp in db.ptr { dbp in dx.ptr { dxp in
            LayerNorm.backward(gradient: r, rows: rows, dim: dim, gamma: gamma, normalized: n, inverseStd: s,
                               gammaGradient: dgp, betaGradient: dbp, inputGradient: dxp)
        } } }
        GradientCheck.check("layernorm.x", x: x, analytic: dx) { loss($0, gamma, beta) }
        GradientCheck.check("layernorm.gamma", x: gamma, analytic: dg) { loss(x, $0, beta) }
        GradientCheck.check("layernorm.beta", x: beta, analytic: db) { loss(x, gamma, $0) }
        // accumulate: adds to the existing input gradient.
        var acc = [Float](repeating: 1, count: rows * dim), dg2 = [Float](repeating: 0, count: dim), db2 = dg2
        acc.ptr { ap in dg2.ptr { g in db2.ptr { b in
            LayerNorm.backward(gradient: r, rows: rows, dim: dim, gamma: gamma, normalized: n, inverseStd: s,
                               gammaGradient: g, betaGradient: b, inputGradient: ap, accumulate: true)
        } } }
        for i in acc.indices { #expect(abs(acc[i] - 1 - dx[i]) < 1e-5) }
    }

    @Test(arguments: Activation.allCases)
    func activation(_ kind: Activation) {
        var rng = SeededGenerator(seed: 3)
        let count = 37   // not a multiple of 16: exercises the scalar tail
        // Keep ReLU inputs away from its kink.
        let x = GradientCheck.random(count, &rng, scale: 2).map { abs($0) < 0.1 ? $0 + 0.3 : $0 }
        let r = GradientCheck.random(count, &rng)
        func loss(_ x: [Float]) -> Double {
            var y = [Float](repeating: 0, count: count)
            y.ptr { kind.forward(x, count: count, into: $0) }
            return GradientCheck.dot(y, r)
        }
        var dx = [Float](repeating: 0, count: count)
        dx.ptr { kind.backward(x, gradient: r, count: count, into: $0) }
        GradientCheck.check("\(kind)", x: x, analytic: dx, epsilon: 1e-3, loss: loss)
        if kind == .gelu {
            // Reference values of GELU (tanh form).
            var y = [Float](repeating: 0, count: 3)
            y.ptr { kind.forward([-1, 0, 2], count: 3, into: $0) }
            #expect(abs(y[0] - -0.158_808) < 1e-4 && abs(y[1]) < 1e-7 && abs(y[2] - 1.954_598) < 1e-4)
        }
    }

    @Test func embedding() {
        var rng = SeededGenerator(seed: 4)
        let rows = 5, dim = 3
        let table = GradientCheck.random(rows * dim, &rng)
        let indices: [Int32] = [2, 0, 2, 4, 1, 2]
        let r = GradientCheck.random(indices.count * dim, &rng)
        func loss(_ t: [Float]) -> Double {
            var y = [Float](repeating: 0, count: indices.count * dim)
            y.ptr { Embedding.gather(table: t, dim: dim, indices: indices, count: indices.count, scale: 1.5, into: $0) }
            return GradientCheck.dot(y, r)
        }
        var dt = [Float](repeating: 0, count: table.count)
        dt.ptr { Embedding.scatterAdd(gradient: r, dim: dim, indices: indices, count: indices.count, scale: 1.5, into: $0) }
        GradientCheck.check("embedding", x: table, analytic: dt, loss: loss)
        // Row 3 is never looked up: zero gradient.
        #expect(dt[9..<12].allSatisfy { $0 == 0 })
    }

    @Test(arguments: [false, true])
    func causalSelfAttention(dropout: Bool) {
        var rng = SeededGenerator(seed: 5)
        let dim = 8, heads = 2
        let layout = PackedSequences(lengths: [3, 1, 5, 2])
        let n = layout.tokenCount, probs = layout.probabilityCount(heads: heads)
        let qkv = GradientCheck.random(n * 3 * dim, &rng)
        let r = GradientCheck.random(n * dim, &rng)
        var mask = [Float](repeating: 1, count: probs)
        if dropout { mask.ptr { Dropout.fillMask($0, count: probs, rate: 0.3, generator: &rng) } }
        func run(_ qkv: [Float]) -> (out: [Float], p: [Float]) {
            var out = [Float](repeating: 0, count: n * dim), p = [Float](repeating: 0, count: probs)
            mask.withUnsafeBufferPointer { m in
                out.ptr { op in p.ptr { pp in
                    CausalSelfAttention.forward(qkv: qkv, layout: layout, dim: dim, heads: heads, probabilities: pp,
                                                masks: dropout ? m.baseAddress : nil, into: op)
                } }
            }
            return (out, p)
        }
        let (_, p) = run(qkv)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        mask.withUnsafeBufferPointer { m in
            dqkv.ptr { CausalSelfAttention.backward(qkv: qkv, layout: layout, dim: dim, heads: heads, probabilities: p,
                                                    masks: dropout ? m.baseAddress : nil, gradient: r, into: $0) }
        }
        GradientCheck.check("attention(dropout: \(dropout))", x: qkv, analytic: dqkv, coordinates: 10) {
            GradientCheck.dot(run($0).out, r)
        }
        // Causality: changing a later token's key/value leaves earlier outputs unchanged.
        var changed = qkv
        let seq = 2, lastRow = layout.bounds[seq + 1] - 1
        for j in dim..<(3 * dim) { changed[lastRow * 3 * dim + j] += 5 }
        let a = run(qkv).out, b = run(changed).out
        for row in layout.bounds[seq]..<lastRow { for j in 0..<dim { #expect(a[row * dim + j] == b[row * dim + j]) } }
        // Rows of probabilities sum to one over the visible prefix.
        for s in 0..<layout.count {
            let t = layout.length(s)
            for h in 0..<heads {
                let o = layout.probabilityOffset(s, head: h, heads: heads)
                for i in 0..<t {
                    let sum = p[(o + i * t)..<(o + i * t + t)].reduce(0, +)
                    #expect(abs(sum - 1) < 1e-5)
                    if i + 1 < t { #expect(p[(o + i * t + i + 1)..<(o + i * t + t)].allSatisfy { $0 == 0 }) }
                }
            }
        }
    }

    @Test func softmaxCrossEntropyWithBias() {
        var rng = SeededGenerator(seed: 16)
        let rows = 3, classes = 21
        let logits = GradientCheck.random(rows * classes, &rng), bias = GradientCheck.random(classes, &rng)
        let targets: [Int32] = [1, 20, 5]
        func run(_ z: [Float], _ b: [Float]?) -> (Double, [Float]) {
            var copy = z, rowLoss = [Float](repeating: 0, count: rows)
            let loss = copy.ptr { zp in rowLoss.ptr { rl in
                (b ?? []).withUnsafeBufferPointer { bp in
                    SoftmaxCrossEntropy.lossAndGradient(logits: zp, rows: rows, classes: classes, targets: targets, weight: 1,
                                                        bias: b == nil ? nil : bp.baseAddress, rowLoss: rl)
                }
            } }
            return (loss, copy)
        }
        // Same as adding the bias to every row beforehand.
        var shifted = logits
        for r in 0..<rows { for c in 0..<classes { shifted[r * classes + c] += bias[c] } }
        let (a, ga) = run(logits, bias), (b, gb) = run(shifted, nil)
        #expect(abs(a - b) < 1e-5)
        for i in ga.indices { #expect(abs(ga[i] - gb[i]) < 1e-6) }
    }

    @Test(arguments: [false, true])
    func softmaxCrossEntropy(masked: Bool) {
        var rng = SeededGenerator(seed: 6)
        let rows = 4, classes = 19
        let logits = GradientCheck.random(rows * classes, &rng, scale: 2)
        let targets: [Int32] = [3, 0, 18, 7]
        var allowed = [Float](repeating: 1, count: rows * classes)
        if masked {
            for r in 0..<rows { for c in 0..<classes where c % 3 == 1 && c != Int(targets[r]) { allowed[r * classes + c] = 0 } }
        }
        let weight: Float = 0.7
        func loss(_ z: [Float]) -> Double {
            var copy = z, rowLoss = [Float](repeating: 0, count: rows)
            return allowed.withUnsafeBufferPointer { a in copy.ptr { zp in rowLoss.ptr { rl in
                Double(weight) * SoftmaxCrossEntropy.lossAndGradient(logits: zp, rows: rows, classes: classes, targets: targets,
                                                                      weight: weight, allowed: masked ? a.baseAddress : nil, rowLoss: rl)
            } } }
        }
        var grad = logits, rowLoss = [Float](repeating: 0, count: rows)
        let total = allowed.withUnsafeBufferPointer { a in grad.ptr { zp in rowLoss.ptr { rl in
            SoftmaxCrossEntropy.lossAndGradient(logits: zp, rows: rows, classes: classes, targets: targets, weight: weight,
                                                allowed: masked ? a.baseAddress : nil, rowLoss: rl)
        } } }
        // Reference loss in Double.
        var reference = 0.0
        for r in 0..<rows {
            var sum = 0.0
            for c in 0..<classes where allowed[r * classes + c] != 0 { sum += exp(Double(logits[r * classes + c])) }
            reference += log(sum) - Double(logits[r * classes + Int(targets[r])])
        }
        #expect(abs(total - reference) < 1e-4 * max(1, abs(reference)))
        GradientCheck.check("cross-entropy(masked: \(masked))", x: logits, analytic: grad, epsilon: 1e-2, loss: loss)
        if masked {
            for i in allowed.indices where allowed[i] == 0 { #expect(grad[i] == 0) }
        }
        // A negative target skips the row.
        var z = logits, rl2 = [Float](repeating: 0, count: rows)
        let skipped = z.ptr { zp in rl2.ptr { rl in
            SoftmaxCrossEntropy.lossAndGradient(logits: zp, rows: rows, classes: classes, targets: [-1, -1, -1, -1], weight: 1, rowLoss: rl)
        } }
        #expect(skipped == 0 && z.allSatisfy { $0 == 0 })
    }

    @Test func dropoutMasks() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
        var m1 = [Float](repeating: 0, count: 10_001), m2 = m1
        m1.ptr { Dropout.fillMask($0, count: 10_001, rate: 0.25, generator: &a) }
        m2.ptr { Dropout.fillMask($0, count: 10_001, rate: 0.25, generator: &b) }
        #expect(m1 == m2)
        let dropped = m1.filter { $0 == 0 }.count
        #expect(abs(Double(dropped) / 10_001 - 0.25) < 0.02)
        #expect(m1.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
        var none = [Float](repeating: 0, count: 9)
        none.ptr { Dropout.fillMask($0, count: 9, rate: 0, generator: &a) }
        #expect(none.allSatisfy { $0 == 1 })
    }

    @Test func fastExp() {
        var worst: Double = 0
        var x: Float = -80
        while x < 80 {
            let e = Double(FastMath.exp(x)), r = exp(Double(x))
            worst = max(worst, abs(e - r) / r)
            x += 0.0137
        }
        #expect(worst < 5e-7)
        var row: [Float] = (0..<37).map { Float($0) * 0.37 - 5 }
        let reference = row.map { exp(Double($0)) }
        let sum = row.ptr { FastMath.expInPlace($0, count: 37) }
        #expect(abs(Double(sum) - reference.reduce(0, +)) / reference.reduce(0, +) < 1e-6)
        for i in row.indices { #expect(abs(Double(row[i]) - reference[i]) / reference[i] < 1e-6) }
    }

    @Test func adamWStep() {
        let p = ParameterSet()
        p.add("w", shape: [2], decay: true, values: [1, -2])
        p.add("b", shape: [1], decay: false, values: [0.5])
        p.finalize()
        var config = AdamW.Configuration()
        config.weightDecay = 0.1
        config.clipNorm = 0
        var opt = AdamW(for: p, configuration: config, rounding: .scaleFirst)
        let g: [Float] = [0.5, -1, 2]
        for i in 0..<3 { p.gradients.pointer[i] = g[i] }
        opt.update(p, learningRate: 0.01)
        // Step 1: m̂ = g, v̂ = g², update = lr · g/(|g| + ε) = ±lr; decay on w only.
        let expected: [Float] = [1 * (1 - 0.001) - 0.01, -2 * (1 - 0.001) + 0.01, 0.5 - 0.01]
        for i in 0..<3 { #expect(abs(p.values.pointer[i] - expected[i]) < 1e-6) }
        // Clipping scales the gradient (norm 5) to norm 1 before the moments see it: m = (1 − β₁)·g/5.
        let q = ParameterSet()
        q.add("w", shape: [2], decay: false, values: [0, 0])
        q.finalize()
        q.gradients.pointer[0] = 3; q.gradients.pointer[1] = 4
        #expect(abs(AdamW.norm(q.gradients.pointer, count: 2) - 5) < 1e-9)
        var clip = AdamW.Configuration()
        clip.clipNorm = 1
        var clipped = AdamW(for: q, configuration: clip, rounding: .scaleFirst)
        clipped.update(q, learningRate: 0.1)
        #expect(abs(clipped.m[0] - 0.1 * 0.6) < 1e-7 && abs(clipped.m[1] - 0.1 * 0.8) < 1e-7)
        #expect(q.gradients.pointer[0] == 3 && q.gradients.pointer[1] == 4, "clipping must not change the gradients")
    }

    @Test func learningRateSchedule() {
        let s = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110, decay: .linear, floor: 0.1)
        #expect(abs(s.rate(at: 1) - 1e-4) < 1e-12)
        #expect(abs(s.rate(at: 10) - 1e-3) < 1e-12)
        #expect(abs(s.rate(at: 60) - 0.55e-3) < 1e-12)
        #expect(abs(s.rate(at: 110) - 1e-4) < 1e-12)
        let c = LearningRateSchedule(peak: 1, warmupSteps: 0, totalSteps: 100, decay: .cosine, floor: 0)
        #expect(abs(c.rate(at: 50) - 0.5) < 1e-9)
    }
}
