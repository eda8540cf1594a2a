import SemidMath

// MARK: - bfloat16 (AMX) passes

/// The dense layer's products in bfloat16 on Intel AMX tiles with fp32 accumulation
/// (``BF16Matmul``), for the ``DenseLayer/WeightLayout/outputsByInputs`` layout (RQ-VAE training).
/// The weight is packed once per optimizer step (``packWeight(_:forward:backward:)``) and shared by
/// every shard of the step; the inputs are packed into caller-owned scratch buffers.
extension DenseLayer {
    /// UInt16 values of the weight packed for ``forwardBF16(_:rows:packedWeight:bias:activation:output:scratch:)`` (`Wᵀ`).
    package var packedForwardWeightCount: Int { BF16Matmul.packedCount(outputs, k: inputs) }
    /// UInt16 values of the weight packed for the input gradient of ``backwardBF16(input:rows:packedWeight:outputGradient:weightGradient:biasGradient:inputGradient:scratchA:scratchB:)`` (`W`).
    package var packedBackwardWeightCount: Int { BF16Matmul.packedCount(inputs, k: outputs) }

    /// Packs `W` (`[outputs, inputs]`) for the forward and the backward product.
    package func packWeight(_ w: UnsafePointer<Float>, forward: UnsafeMutablePointer<UInt16>,
                            backward: UnsafeMutablePointer<UInt16>) {
        BF16Matmul.packB(transposed: true, k: inputs, n: outputs, b: w, ldb: inputs, into: forward)
        BF16Matmul.packB(transposed: false, k: outputs, n: inputs, b: w, ldb: inputs, into: backward)
    }

    /// UInt16 values each of the two scratch buffers needs for `rows` rows.
    package func bf16ScratchCount(rows: Int) -> Int {
        Swift.max(BF16Matmul.packedCount(rows, k: inputs), BF16Matmul.packedCount(rows, k: outputs),
                  BF16Matmul.packedCount(outputs, k: rows), BF16Matmul.packedCount(inputs, k: rows))
    }

    /// ``forward(_:rows:weight:bias:activation:output:)`` with the product in bfloat16 on AMX.
    package func forwardBF16(
        _ x: UnsafePointer<Float>, rows: Int, packedWeight: UnsafePointer<UInt16>, bias: UnsafePointer<Float>,
        activation: Activation?, output y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<UInt16>
    ) {
        guard rows > 0 else { return }
        BF16Matmul.packA(transposed: false, m: rows, k: inputs, a: x, lda: inputs, into: scratch)
        BF16Matmul.multiply(m: rows, n: outputs, k: inputs, packedA: scratch, packedB: packedWeight, c: y, ldc: outputs)
        Self.addBias(bias, to: y, rows: rows, cols: outputs, relu: activation == .relu)
        if let activation, activation != .relu { activation.forward(y, count: rows * outputs, into: y) }
    }

    /// ``backward(input:rows:weight:outputGradient:weightGradient:biasGradient:inputGradient:accumulate:accumulateInput:)``
    /// (overwriting) with the products in bfloat16 on AMX; `packedWeight` is the backward packing.
    package func backwardBF16(
        input x: UnsafePointer<Float>, rows: Int, packedWeight: UnsafePointer<UInt16>,
        outputGradient dY: UnsafePointer<Float>,
        weightGradient dW: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
        inputGradient dX: UnsafeMutablePointer<Float>?,
        scratchA: UnsafeMutablePointer<UInt16>, scratchB: UnsafeMutablePointer<UInt16>
    ) {
        guard rows > 0 else {
            dW.update(repeating: 0, count: weightCount)
            db.update(repeating: 0, count: outputs)
            return
        }
        // dW = dYᵀ·X: [outputs, rows]·[rows, inputs].
        BF16Matmul.packA(transposed: true, m: outputs, k: rows, a: dY, lda: outputs, into: scratchA)
        BF16Matmul.packB(transposed: false, k: rows, n: inputs, b: x, ldb: inputs, into: scratchB)
        BF16Matmul.multiply(m: outputs, n: inputs, k: rows, packedA: scratchA, packedB: scratchB, c: dW, ldc: inputs)
        Self.laneColumnSums(dY, rows: rows, cols: outputs, into: db, accumulate: false)
        if let dX {
            // dX = dY·W: [rows, outputs]·[outputs, inputs].
            BF16Matmul.packA(transposed: false, m: rows, k: outputs, a: dY, lda: outputs, into: scratchA)
            BF16Matmul.multiply(m: rows, n: inputs, k: outputs, packedA: scratchA, packedB: packedWeight, c: dX, ldc: inputs)
        }
    }
}
