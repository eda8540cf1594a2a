import Foundation
import Testing
import SemidMath
@testable import SemidNeuralNetwork
import SemidTestSupport

/// Finite-difference checks of the dense layer, ReLU and MSE, and AdamW against hand-computed steps.
@Suite struct NeuralNetworkTests {
    /// `Σ R ⊙ act(x·Wᵀ + b)` for fixed `R`, in Float through the layer's own forward.
    static func projectedOutput(_ layer: DenseLayer, x: [Float], rows: Int, w: [Float], b: [Float],
                                activation: Activation?, r: [Float]) -> Double {
        var y = [Float](repeating: 0, count: rows * layer.outputs)
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in
                layer.forward(xp.baseAddress!, rows: rows, weight: wp.baseAddress!, bias: bp.baseAddress!,
                              activation: activation, output: yp.baseAddress!)
            }
        } } }
        return zip(y, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test(arguments: [nil, Activation.relu] as [Activation?])
    func denseLayerGradientsMatchCentralDifferences(activation: Activation?) {
        let layer = DenseLayer(inputs: 7, outputs: 5)
        let rows = 6
        // Draw data whose pre-activations all stay ≥ 0.05 away from ReLU's kink, so central
        // differences with h = 0.01 never cross it.
        var seed: UInt64 = 11
        var x: [Float] = [], w: [Float] = [], b: [Float] = [], r: [Float] = []
        while true {
            var rng = SeededGenerator(seed: seed)
            x = GradientCheck.random(rows * 7, &rng); w = GradientCheck.random(35, &rng, scale: 0.5); b = GradientCheck.random(5, &rng, scale: 0.5)
            r = GradientCheck.random(rows * 5, &rng)
            var nearest: Float = .infinity
            for row in 0..<rows {
                for o in 0..<5 {
                    var pre = b[o]
                    for i in 0..<7 { pre += x[row * 7 + i] * w[o * 7 + i] }
                    nearest = min(nearest, abs(pre))
                }
            }
            if nearest > 0.05 { break }
            seed += 1
        }
        // Analytic: dY = R ⊙ act'(pre-activation).
        var y = [Float](repeating: 0, count: rows * 5)
        var dY = r
        var dW = [Float](repeating: 9, count: 35), db = [Float](repeating: 9, count: 5), dX = [Float](repeating: 9, count: rows * 7)
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in
                dY.withUnsafeMutableBufferPointer { gp in
                    layer.forward(xp.baseAddress!, rows: rows, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                  activation: activation, output: yp.baseAddress!)
                    if activation == .relu {
                        Activation.reluBackward(output: yp.baseAddress!, gradient: gp.baseAddress!, count: rows * 5)
                    }
                    dW.withUnsafeMutableBufferPointer { dw in db.withUnsafeMutableBufferPointer { dbp in
                        dX.withUnsafeMutableBufferPointer { dx in
                            layer.backward(input: xp.baseAddress!, rows: rows, weight: wp.baseAddress!,
                                           outputGradient: gp.baseAddress!, weightGradient: dw.baseAddress!,
                                           biasGradient: dbp.baseAddress!, inputGradient: dx.baseAddress!, accumulate: false)
                        }
                    } }
                }
            }
        } } }
        let h: Float = 1e-2
        func check(_ analytic: [Float], at point: [Float], loss: ([Float]) -> Double) {
            for i in analytic.indices {
                let fd = GradientCheck.centralDifference(at: point, coordinate: i, epsilon: h, loss: loss)
                #expect(abs(fd - Double(analytic[i])) <= 2e-3 * max(1, abs(fd)), "index \(i): fd \(fd) vs \(analytic[i])")
            }
        }
        check(dW, at: w) { Self.projectedOutput(layer, x: x, rows: rows, w: $0, b: b, activation: activation, r: r) }
        check(db, at: b) { Self.projectedOutput(layer, x: x, rows: rows, w: w, b: $0, activation: activation, r: r) }
        check(dX, at: x) { Self.projectedOutput(layer, x: $0, rows: rows, w: w, b: b, activation: activation, r: r) }
    }

    @Test func backwardAccumulatesWhenAsked() {
        var rng = SeededGenerator(seed: 3)
        let layer = DenseLayer(inputs: 4, outputs: 3)
        let x = GradientCheck.random(8, &rng), w = GradientCheck.random(12, &rng), g = GradientCheck.random(6, &rng)
        var dW = [Float](repeating: 1, count: 12), db = [Float](repeating: 1, count: 3)
        var fresh = [Float](repeating: 0, count: 12), freshB = [Float](repeating: 0, count: 3)
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in g.withUnsafeBufferPointer { gp in
            layer.backward(input: xp.baseAddress!, rows: 2, weight: wp.baseAddress!, outputGradient: gp.baseAddress!,
                           weightGradient: &dW, biasGradient: &db, inputGradient: nil, accumulate: true)
            layer.backward(input: xp.baseAddress!, rows: 2, weight: wp.baseAddress!, outputGradient: gp.baseAddress!,
                           weightGradient: &fresh, biasGradient: &freshB, inputGradient: nil, accumulate: false)
        } } }
        for i in 0..<12 { #expect(abs(dW[i] - (fresh[i] + 1)) < 1e-5) }
        for i in 0..<3 { #expect(abs(db[i] - (freshB[i] + 1)) < 1e-5) }
    }

    @Test func reluBackwardMatchesCentralDifferences() {
        // Away from the kink, d relu(x)/dx is 1 for x > 0 and 0 for x < 0.
        var rng = SeededGenerator(seed: 5)
        let pre = (0..<37).map { _ -> Float in let v = rng.nextGaussian(); return v + (v >= 0 ? 0.1 : -0.1) }
        var y = pre
        y.withUnsafeMutableBufferPointer { Activation.relu.forward($0.baseAddress!, count: 37, into: $0.baseAddress!) }
        var g = [Float](repeating: 1, count: 37)
        y.withUnsafeBufferPointer { yp in g.withUnsafeMutableBufferPointer { gp in
            Activation.reluBackward(output: yp.baseAddress!, gradient: gp.baseAddress!, count: 37)
        } }
        let h: Float = 1e-3
        for i in 0..<37 {
            let fd = (max(0, pre[i] + h) - max(0, pre[i] - h)) / (2 * h)
            #expect(abs(fd - g[i]) < 1e-3)
        }
    }

    @Test func meanSquaredErrorMatchesCentralDifferences() {
        var rng = SeededGenerator(seed: 8)
        let n = 29
        let p = GradientCheck.random(n, &rng), t = GradientCheck.random(n, &rng)
        var g = [Float](repeating: 0, count: n)
        let sum = p.withUnsafeBufferPointer { pp in t.withUnsafeBufferPointer { tp in g.withUnsafeMutableBufferPointer { gp in
            MeanSquaredError.sumAndGradient(prediction: pp.baseAddress!, target: tp.baseAddress!, count: n,
                                            scale: 1 / Float(n), gradient: gp.baseAddress!)
        } } }
        let exact = zip(p, t).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        #expect(abs(sum - exact) < 1e-4)
        func loss(_ q: [Float]) -> Double { zip(q, t).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(n) }
        let h: Float = 1e-2
        for i in 0..<n {
            let fd = GradientCheck.centralDifference(at: p, coordinate: i, epsilon: h, loss: loss)
            #expect(abs(fd - Double(g[i])) < 1e-4)
        }
    }

    @Test func adamWMatchesHandComputedSteps() {
        // Two parameters; the first gets weight decay. Warm-up of 2 steps then constant.
        let config = AdamW.Configuration(beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.5)
        let schedule = LearningRateSchedule(peak: 0.1, warmupSteps: 2, totalSteps: 10, decay: .constant)
        var opt = AdamW(parameterCount: 2, configuration: config, decayedRanges: [0..<1])
        var theta: [Float] = [1.0, -2.0]
        let grads: [[Float]] = [[0.5, -1.0], [0.25, 2.0], [-1.0, 0.5]]
        var expected: [Double] = [1.0, -2.0]
        var m = [0.0, 0.0], v = [0.0, 0.0]
        for (t, g) in grads.enumerated() {
            let step = t + 1
            let lr = step <= 2 ? 0.1 * Double(step) / 2 : 0.1
            #expect(abs(schedule.rate(at: step) - lr) < 1e-12)
            expected[0] *= 1 - lr * 0.5
            for i in 0..<2 {
                m[i] = 0.9 * m[i] + 0.1 * Double(g[i])
                v[i] = 0.99 * v[i] + 0.01 * Double(g[i]) * Double(g[i])
                let mHat = m[i] / (1 - pow(0.9, Double(step))), vHat = v[i] / (1 - pow(0.99, Double(step)))
                expected[i] -= lr * mHat / (vHat.squareRoot() + 1e-8)
            }
            theta.withUnsafeMutableBufferPointer { tp in g.withUnsafeBufferPointer { gp in
                opt.update(parameters: tp.baseAddress!, gradients: gp.baseAddress!, learningRate: schedule.rate(at: step))
            } }
            for i in 0..<2 { #expect(abs(Double(theta[i]) - expected[i]) < 1e-5, "step \(step) parameter \(i)") }
        }
        // Step 1 by hand: m̂ = g, v̂ = g², so the move is lr·sign(g) (lr = 0.05), after decay 1·(1 − 0.025).
        // (checked above through the general formula; spot-check the first value)
        #expect(opt.step == 3)
        opt.resetMoments(0..<1)
        #expect(opt.m[0] == 0 && opt.v[0] == 0 && opt.m[1] != 0)
    }

    @Test(arguments: [AdamW.Rounding.squareFirst, .scaleFirst])
    func adamWVectorAndTailPathsFollowTheSameFormula(rounding: AdamW.Rounding) {
        // 37 values: two 16-lane blocks and a tail of 5; decay on a range that straddles them.
        let config = AdamW.Configuration(weightDecay: 0.1)
        var opt = AdamW(parameterCount: 37, configuration: config, decayedRanges: [10..<30], rounding: rounding)
        var rng = SeededGenerator(seed: 12)
        var theta = (0..<37).map { _ in rng.nextGaussian() }
        var expected = theta.map(Double.init)
        var m = [Double](repeating: 0, count: 37), v = m
        for step in 1...3 {
            let g = (0..<37).map { _ in rng.nextGaussian() }
            for i in 0..<37 {
                if (10..<30).contains(i) { expected[i] *= 1 - 0.01 * 0.1 }
                m[i] = 0.9 * m[i] + 0.1 * Double(g[i])
                v[i] = 0.999 * v[i] + 0.001 * Double(g[i]) * Double(g[i])
                let mHat = m[i] / (1 - pow(0.9, Double(step))), vHat = v[i] / (1 - pow(0.999, Double(step)))
                expected[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
            }
            theta.withUnsafeMutableBufferPointer { opt.update(parameters: $0.baseAddress!, gradients: g, learningRate: 0.01) }
        }
        for i in 0..<37 { #expect(abs(Double(theta[i]) - expected[i]) < 1e-5, "parameter \(i)") }
    }

    @Test func cosineScheduleWarmsUpThenDecaysToTheFloor() {
        let opt = LearningRateSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, decay: .cosine, floor: 0.1)
        #expect(abs(opt.rate(at: 5) - 0.5) < 1e-12)
        #expect(abs(opt.rate(at: 10) - 1) < 1e-12)
        #expect(abs(opt.rate(at: 60) - 0.55) < 1e-12)   // half-way: 0.1 + 0.9·0.5
        #expect(abs(opt.rate(at: 110) - 0.1) < 1e-12)
        #expect(abs(opt.rate(at: 500) - 0.1) < 1e-12)
    }
}

