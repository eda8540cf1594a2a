import Foundation
import SemidMath
import SemidTestSupport
import Testing
@testable import SemidNeuralNetwork

/// The dense layer's bfloat16 passes against its fp32 passes (skipped on machines without AMX).
@Suite(.enabled(if: BF16Matmul.isAvailable, "needs a CPU with AMX-BF16"))
struct DenseLayerBFloat16Tests {
    @Test func denseLayerPassesAgreeWithFp32() {
        let layer = DenseLayer(inputs: 70, outputs: 45)
        let rows = 33
        let x = SyntheticData.gaussianValues(rows * 70, seed: 4), w = SyntheticData.gaussianValues(70 * 45, seed: 5).map { $0 * 0.1 }
        let bias = SyntheticData.gaussianValues(45, seed: 6), dY = SyntheticData.gaussianValues(rows * 45, seed: 7)
        var fwd = [UInt16](repeating: 0, count: layer.packedForwardWeightCount)
        var bwd = [UInt16](repeating: 0, count: layer.packedBackwardWeightCount)
        var sa = [UInt16](repeating: 0, count: layer.bf16ScratchCount(rows: rows)), sb = sa
        var y32 = [Float](repeating: 0, count: rows * 45), y16 = y32
        var dW32 = [Float](repeating: 0, count: 70 * 45), dW16 = dW32, db32 = [Float](repeating: 0, count: 45), db16 = db32
        var dX32 = [Float](repeating: 0, count: rows * 70), dX16 = dX32
        w.withUnsafeBufferPointer { wp in
            layer.packWeight(wp.baseAddress!, forward: &fwd, backward: &bwd)
            layer.forward(x, rows: rows, weight: wp.baseAddress!, bias: bias, activation: .relu, output: &y32)
            layer.forwardBF16(x, rows: rows, packedWeight: fwd, bias: bias, activation: .relu, output: &y16, scratch: &sa)
            layer.backward(input: x, rows: rows, weight: wp.baseAddress!, outputGradient: dY, weightGradient: &dW32,
                           biasGradient: &db32, inputGradient: &dX32, accumulate: false)
            layer.backwardBF16(input: x, rows: rows, packedWeight: bwd, outputGradient: dY, weightGradient: &dW16,
                               biasGradient: &db16, inputGradient: &dX16, scratchA: &sa, scratchB: &sb)
        }
        func relative(_ a: [Float], _ b: [Float]) -> Float {
            let num = zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            return (num / b.reduce(0) { $0 + $1 * $1 }).squareRoot()
        }
        #expect(relative(y16, y32) < 1e-2)
        #expect(relative(dW16, dW32) < 1e-2)
        #expect(relative(dX16, dX32) < 1e-2)
        #expect(db16 == db32)
    }
}
