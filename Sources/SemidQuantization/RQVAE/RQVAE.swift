import Foundation
import SemidMath
import SemidNeuralNetwork

/// Trains an ``RQVAEQuantizer`` (RQ-VAE as in TIGER / LC-Rec) on BLAS with hand-written backward passes.
///
/// **Loss** of a batch of `B` rows (the PyTorch reference's):
/// ```
/// recon  = Σ ‖x − decoder(z + sg(zq − z))‖² / (B·d)                 straight-through: the decoder sees zq,
/// cbook  = (1/L) Σ_l Σ ‖c_l[j_l] − sg(r_l)‖² / (B·m)                  the encoder gets its gradient
/// commit = β·(1/L) Σ_l Σ ‖r_l − sg(c_l[j_l])‖² / (B·m)                 (r_0 = z, r_{l+1} = r_l − sg(c_l[j_l]))
/// ```
/// so with `r_{l+1} = r_l − c_l[j_l]` the gradients are: `∂/∂c_l[j] = −2/(L·B·m)·Σ_{rows with j} r_{l+1}`
/// (codebooks are parameters, updated by AdamW like the weights), and
/// `∂/∂z = ∂recon/∂zq + 2β/(L·B·m)·Σ_l r_{l+1}`, back-propagated through the encoder.
///
/// **Codebook health.** Codebooks start from k-means (``KMeans``) on the latents of a sample of the
/// data under the initial encoder, level by level on the residuals. A code no batch has used for
/// ``Configuration/deadCodeSteps`` steps is re-seeded with the level-`l` residual of a row of the
/// current batch drawn with probability proportional to its quantization error at that level
/// (D² sampling, as k-means++), and its AdamW moments are cleared.
///
/// **Checkpoint rule.** Every ``Configuration/evaluateEvery`` epochs (and after the last) all items
/// are encoded and decoded. Among the evaluations whose relative reconstruction MSE is within
/// ``Configuration/checkpointTolerance`` of the lowest, the one with the lowest raw collision rate
/// is kept (ties: lower MSE, then the earlier epoch).
///
/// **Arithmetic.** With ``Configuration/Precision/auto`` (default) the dense layers' products run in
/// bfloat16 on Intel AMX when available (``BF16Matmul``), fp32 `sgemm` otherwise; quantization,
/// losses and AdamW are fp32. Evaluations during training use the training arithmetic; the kept
/// checkpoint is re-evaluated by the exact inference pass, which gives the returned codes
/// (= ``RQVAEQuantizer/encode(_:)``, the same on every machine).
///
/// **Threads and determinism.** Each batch is split into ``shards`` fixed halves processed
/// concurrently, each with single-threaded BLAS and its own gradient buffer; the gradients are
/// summed in a fixed order. The split does not depend on the core count, so the same data, seed and
/// configuration give bit-identical weights (on the same BLAS kernel and arithmetic).
public enum RQVAE {
    /// Pieces each batch is split into (processed concurrently, summed in order).
    public static let shards = 2

    /// The trained quantizer, the codes of the training rows, the training report and the final
    /// evaluation pass.
    public struct Trained: Sendable {
        /// The kept checkpoint.
        public var quantizer: RQVAEQuantizer
        /// Greedy codes of the training rows under the kept checkpoint, `[n, L]`.
        public var codes: CodeMatrix
        /// What training did.
        public var report: Report
        /// The kept checkpoint's fp32 pass over all rows (the one that produced ``codes``).
        public var evaluation: RQVAEQuantizer.Evaluation
    }

    /// Trains on the rows of `data` (`[n, d]`).
    public static func train(_ data: Matrix, configuration c: Configuration, seed: UInt64,
                             progress: ProgressHandler? = nil) throws -> Trained {
        try c.validate(items: data.rows, dimension: data.cols)
        if let bad = data.firstNonFinite() {
            throw QuantizationError.numerical("training data row \(bad.row), column \(bad.column) is not finite")
        }
        let n = data.rows, d = data.cols
        let network = RQVAENetwork(inputDimension: d, hidden: c.hidden, latentDimension: c.latentDimension,
                                   codebookSizes: c.codebookSizes)
        let root = SeededGenerator(seed: seed)
        var parameters = initialParameters(network, generator: root.derived(1))
        try initializeCodebooks(data, network: network, parameters: &parameters, samples: c.initSamplesPerCode * (c.codebookSizes.max() ?? 0),
                                generator: root.derived(2), progress: progress)

        let stepsPerEpoch = c.stepsPerEpoch(items: n)
        var optimizer = AdamW(parameterCount: network.parameterCount, configuration: c.optimizer.adamW,
                              decayedRanges: network.weightRanges, rounding: .squareFirst)
        let schedule = c.optimizer.schedule(totalSteps: c.epochs * stepsPerEpoch)
        let bf16: Bool
        switch c.precision {
        case .fp32: bf16 = false
        case .auto: bf16 = BF16Matmul.isAvailable
        case .bf16:
            guard BF16Matmul.isAvailable else {
                throw QuantizationError.invalidParameter(
                    name: "--precision", value: "bf16",
                    expected: "fp32 or auto on this machine (bf16 needs a CPU with AMX-BF16 and Linux 5.16+)")
            }
            bf16 = true
        }
        let packed = bf16 ? RQVAEPackedWeights(network: network) : nil
        let shardCapacity = (min(c.batchSize, n) + shards - 1) / shards
        let workspaces = (0..<shards).map { _ in
            RQVAEWorkspace(network: network, capacity: shardCapacity, training: true, bf16: bf16)
        }
        let L = c.levels, m = c.latentDimension, starts = network.codeStarts
        let deadSteps = c.deadCodeSteps ?? stepsPerEpoch
        var lastUsed = [Int](repeating: 0, count: network.totalCodes)
        var resets = [Int](repeating: 0, count: L)
        let variance = data.totalVariance
        var history: [Report.Epoch] = []
        var evaluations: [(epoch: Int, relativeMse: Double, collisionRate: Double)] = []
        var snapshots: [Int: (parameters: [Float], evaluation: RQVAEQuantizer.Evaluation)] = [:]
        var sinceImprovement = 0
        var stoppedEarly = false
        var step = 0
        var perm = Array(0..<n)
        var epochCodes = [Int32](repeating: 0, count: n * L)
        var shardLoss = [(recon: Double, quant: Double)](repeating: (0, 0), count: shards)
        var batchRows = [Int](repeating: 0, count: c.batchSize)

        try BLASRuntime.withThreadCount(1) {
            for epoch in 1...c.epochs {
                var shuffler = root.derived(1000 + UInt64(epoch))
                shuffler.shuffle(&perm)
                var reconSum = 0.0, quantSum = 0.0, batches = 0, epochResets = 0
                var start = 0
                while start < n {
                    let rows = min(c.batchSize, n - start)
                    step += 1
                    for i in 0..<rows { batchRows[i] = perm[start + i] }
                    let beta = Float(c.beta)
                    // Forward and backward, one shard per core.
                    parameters.withUnsafeBufferPointer { pb in
                        data.values.withUnsafeBufferPointer { xb in
                            batchRows.withUnsafeBufferPointer { rb in
                                shardLoss.withUnsafeMutableBufferPointer { lb in
                                    let p = pb.baseAddress!, xs = xb.baseAddress!, rs = rb.baseAddress!
                                    let losses = SharedMutablePointer(lb.baseAddress!)
                                    packed?.pack(parameters: p)
                                    Parallel.forEach(count: shards) { s in
                                        let lo = rows * s / shards, hi = rows * (s + 1) / shards
                                        let ws = workspaces[s]
                                        for i in lo..<hi {
                                            (ws.input + (i - lo) * d).update(from: xs + rs[i] * d, count: d)
                                        }
                                        losses.pointer[s] = ws.trainingPass(rows: hi - lo, batchRows: rows, parameters: p, beta: beta,
                                                                            packed: packed)
                                    }
                                }
                            }
                        }
                    }
                    // Sum the shards' gradients in order, then one AdamW step.
                    let total = workspaces[0].parameterGradient!
                    for s in 1..<shards {
                        let g = workspaces[s].parameterGradient!
                        BLAS.saxpy(count: network.parameterCount, alpha: 1, x: g, y: total)
                    }
                    parameters.withUnsafeMutableBufferPointer { pb in
                        optimizer.update(parameters: pb.baseAddress!, gradients: total, learningRate: schedule.rate(at: step))
                    }
                    for s in 0..<shards {
                        reconSum += shardLoss[s].recon
                        quantSum += shardLoss[s].quant
                    }
                    batches += 1
                    // Code usage.
                    for s in 0..<shards {
                        let lo = rows * s / shards, hi = rows * (s + 1) / shards
                        let codes = workspaces[s].codes
                        for i in lo..<hi {
                            let item = batchRows[i]
                            for l in 0..<L {
                                let j = codes[(i - lo) * L + l]
                                epochCodes[item * L + l] = j
                                lastUsed[starts[l] + Int(j)] = step
                            }
                        }
                    }
                    if deadSteps > 0 && epoch <= c.epochs - c.deadCodeStopEpochs {
                        var generator = root.derived(UInt64(1_000_000 + step))
                        let count = reseedDeadCodes(
                            step: step, deadSteps: deadSteps, rows: rows, workspaces: workspaces, network: network,
                            parameters: &parameters, optimizer: &optimizer, lastUsed: &lastUsed, resets: &resets,
                            generator: &generator)
                        epochResets += count
                    }
                    start += rows
                }

                // Epoch figures.
                let epochCodeMatrix = CodeMatrix(rows: n, levels: L, values: epochCodes)
                var record = Report.Epoch(
                    epoch: epoch, learningRate: schedule.rate(at: step),
                    reconstruction: reconSum / Double(n * d),
                    codebook: quantSum / Double(n * m * L),
                    commitment: c.beta * quantSum / Double(n * m * L),
                    resets: epochResets,
                    trainingUtilization: usage(epochCodeMatrix, codebookSizes: c.codebookSizes).utilization,
                    trainingCollisionRate: collisionRate(epochCodeMatrix), evaluation: nil)
                if !record.reconstruction.isFinite || !record.codebook.isFinite {
                    throw QuantizationError.numerical(
                        "rq-vae training diverged at epoch \(epoch) (loss is not finite); lower --lr")
                }
                if epoch % c.evaluateEvery == 0 || epoch == c.epochs {
                    // In the training arithmetic (cheap); the kept checkpoint is re-evaluated in fp32 at the end.
                    parameters.withUnsafeBufferPointer { packed?.pack(parameters: $0.baseAddress!) }
                    let eval = RQVAEQuantizer.evaluate(data, network: network, parameters: parameters, reconstruct: true,
                                                       packed: packed)
                    let figures = summary(eval, items: n, variance: variance, codebookSizes: c.codebookSizes)
                    record.evaluation = figures
                    evaluations.append((epoch, figures.relativeMse, figures.collisionRate))
                    snapshots[epoch] = (parameters, eval)
                    let selected = select(evaluations, tolerance: c.checkpointTolerance)
                    // Keep only snapshots that can still be selected: the Pareto front of (MSE, collisions).
                    let front = paretoFront(evaluations)
                    for key in snapshots.keys where !front.contains(key) { snapshots[key] = nil }
                    sinceImprovement = selected == epoch ? 0 : sinceImprovement + 1
                }
                history.append(record)
                progress?(ProgressEvent(stage: "rq-vae epoch", step: epoch, total: c.epochs,
                                        detail: describe(record), finished: true))
                if c.patience > 0 && sinceImprovement >= c.patience {
                    stoppedEarly = epoch < c.epochs
                    break
                }
            }
        }

        let selected = select(evaluations, tolerance: c.checkpointTolerance)
        guard let chosen = snapshots[selected] else {
            throw QuantizationError.numerical("rq-vae: the selected checkpoint (epoch \(selected)) was not kept")
        }
        let quantizer = try RQVAEQuantizer(network: network, parameters: chosen.parameters)
        // The index's codes and figures come from the exact inference pass (the same on every
        // machine, = encode), whatever the training arithmetic.
        let finalEvaluation = try quantizer.evaluate(data, reconstruct: true)
        let report = Report(
            selectionRule: "lowest raw collision rate among evaluations whose relative reconstruction MSE is within "
                + "\(c.checkpointTolerance * 100)% of the lowest (ties: lower MSE, then earlier epoch)",
            precision: bf16 ? "bf16-amx" : "fp32", epochsRun: history.count, steps: step, stoppedEarly: stoppedEarly, selectedEpoch: selected,
            parameterCount: network.parameterCount, deadCodeResets: resets, history: history,
            final: summary(finalEvaluation, items: n, variance: variance, codebookSizes: c.codebookSizes))
        return Trained(quantizer: quantizer, codes: finalEvaluation.codes, report: report, evaluation: finalEvaluation)
    }

    // MARK: - Initialisation

    /// PyTorch's `nn.Linear` default: weights and biases uniform in `±1/√fan_in`; codebooks zero.
    static func initialParameters(_ network: RQVAENetwork, generator: SeededGenerator) -> [Float] {
        var g = generator
        var p = [Float](repeating: 0, count: network.parameterCount)
        for (layers, offsets) in [(network.encoder, network.encoderOffsets), (network.decoder, network.decoderOffsets)] {
            for (layer, offset) in zip(layers, offsets) {
                let bound = 1 / Float(layer.inputs).squareRoot()
                for i in offset..<(offset + layer.parameterCount) {
                    p[i] = (2 * g.nextUnitFloat() - 1) * bound
                }
            }
        }
        return p
    }

    /// k-means on the latents of (a sample of) `data`, level by level on the residuals.
    static func initializeCodebooks(_ data: Matrix, network: RQVAENetwork, parameters: inout [Float], samples: Int,
                                    generator: SeededGenerator, progress: ProgressHandler?) throws {
        var g = generator
        let n = data.rows
        let sample = samples == 0 || samples >= n ? data : data.gatheringRows(g.sample(samples, from: n).sorted())
        var residual = latents(sample, network: network, parameters: parameters)
        let m = network.latentDimension
        for level in 0..<network.levels {
            let K = network.codebookSizes[level]
            let config = KMeans.Configuration(clusters: K, iterations: 20, refinementPasses: 0)
            var levelGenerator = g.derived(UInt64(level))
            let fit = try KMeans.fit(residual, configuration: config, generator: &levelGenerator,
                                     stage: "rq-vae init level \(level + 1)/\(network.levels) k-means", progress: progress)
            let (labels, _) = Distances.nearest(residual, in: fit.centroids)
            let offset = network.codewordOffset(level: level, code: 0)
            parameters.replaceSubrange(offset..<(offset + K * m), with: fit.centroids.values)
            residual.values.withUnsafeMutableBufferPointer { r in
                for i in 0..<residual.rows {
                    let c = Int(labels[i]) * m
                    for t in 0..<m { r[i * m + t] -= fit.centroids.values[c + t] }
                }
            }
        }
    }

    /// The encoder's outputs `z` for the rows of `x`.
    static func latents(_ x: Matrix, network: RQVAENetwork, parameters: [Float]) -> Matrix {
        let d = network.inputDimension, m = network.latentDimension
        var out = Matrix(rows: x.rows, cols: m)
        x.values.withUnsafeBufferPointer { xb in
            out.values.withUnsafeMutableBufferPointer { ob in
                let xs = xb.baseAddress!, dst = SharedMutablePointer(ob.baseAddress!)
                RQVAEQuantizer.forEachBlock(rows: x.rows, network: network, parameters: parameters) { ws, p, lo, rows in
                    ws.input.update(from: xs + lo * d, count: rows * d)
                    ws.encode(rows: rows, parameters: p)
                    (dst.pointer + lo * m).update(from: ws.latent, count: rows * m)
                }
            }
        }
        return out
    }

    // MARK: - Dead codes

    /// Re-seeds every code of every level unused since `step − deadSteps`; returns how many.
    static func reseedDeadCodes(step: Int, deadSteps: Int, rows: Int, workspaces: [RQVAEWorkspace], network: RQVAENetwork,
                                parameters: inout [Float], optimizer: inout AdamW, lastUsed: inout [Int],
                                resets: inout [Int], generator: inout SeededGenerator) -> Int {
        let L = network.levels, m = network.latentDimension, starts = network.codeStarts
        var total = 0
        for level in 0..<L {
            var dead: [Int] = []
            for j in 0..<network.codebookSizes[level] where step - lastUsed[starts[level] + j] >= deadSteps { dead.append(j) }
            if dead.isEmpty { continue }
            // Rows of the batch (shard, row) with their error at this level; weighted sampling
            // without replacement (Efraimidis–Spirakis keys log(u)/w, largest first).
            var keyed: [(key: Double, shard: Int, row: Int)] = []
            for (s, ws) in workspaces.enumerated() {
                let lo = rows * s / shards, hi = rows * (s + 1) / shards
                for r in 0..<(hi - lo) {
                    let w = Double(ws.errors[level * ws.capacity + r])
                    guard w > 0 else { continue }
                    let u = max(generator.nextUnitDouble(), 1e-300)
                    keyed.append((Foundation.log(u) / w, s, r))
                }
            }
            keyed.sort { $0.key != $1.key ? $0.key > $1.key : ($0.shard, $0.row) < ($1.shard, $1.row) }
            let chosen = keyed.prefix(dead.count)
            for (j, pick) in zip(dead, chosen) {
                // The residual entering `level` for that row, with the current codebooks.
                let ws = workspaces[pick.shard]
                var r = Array(UnsafeBufferPointer(start: ws.latent + pick.row * m, count: m))
                for k in 0..<level {
                    let code = Int(ws.codes[pick.row * L + k])
                    let c = network.codewordOffset(level: k, code: code)
                    for t in 0..<m { r[t] -= parameters[c + t] }
                }
                let offset = network.codewordOffset(level: level, code: j)
                parameters.replaceSubrange(offset..<(offset + m), with: r)
                optimizer.resetMoments(offset..<(offset + m))
                lastUsed[starts[level] + j] = step
                resets[level] += 1
                total += 1
            }
        }
        return total
    }

    // MARK: - Figures

    /// Per level: fraction of codes used and `exp(entropy)` of their usage.
    static func usage(_ codes: CodeMatrix, codebookSizes: [Int]) -> (utilization: [Double], perplexity: [Double]) {
        var utilization: [Double] = [], perplexity: [Double] = []
        for level in 0..<codes.levels {
            let K = codebookSizes[level]
            var counts = [Int](repeating: 0, count: K)
            for i in 0..<codes.rows { counts[Int(codes[i, level])] += 1 }
            var entropy = 0.0
            for c in counts where c > 0 {
                let p = Double(c) / Double(codes.rows)
                entropy -= p * Foundation.log(p)
            }
            utilization.append(Double(counts.filter { $0 > 0 }.count) / Double(K))
            perplexity.append(Foundation.exp(entropy))
        }
        return (utilization, perplexity)
    }

    /// `(rows − distinct rows) / rows`.
    static func collisionRate(_ codes: CodeMatrix) -> Double {
        guard codes.rows > 0 else { return 0 }
        var order = Array(0..<codes.rows)
        let L = codes.levels
        codes.values.withUnsafeBufferPointer { v in
            order.sort { a, b in
                for l in 0..<L where v[a * L + l] != v[b * L + l] { return v[a * L + l] < v[b * L + l] }
                return a < b
            }
        }
        var distinct = 1
        for i in 1..<order.count {
            let a = order[i - 1], b = order[i]
            if codes.row(a) != codes.row(b) { distinct += 1 }
        }
        return Double(codes.rows - distinct) / Double(codes.rows)
    }

    static func summary(_ e: RQVAEQuantizer.Evaluation, items n: Int, variance: Double, codebookSizes: [Int]) -> Report.Evaluation {
        let u = usage(e.codes, codebookSizes: codebookSizes)
        return Report.Evaluation(
            relativeMse: variance > 0 ? e.reconstructionError / Double(n) / variance : 0,
            collisionRate: collisionRate(e.codes), utilization: u.utilization, perplexity: u.perplexity,
            latentResidualFraction: e.latentResidualError.map { e.latentVariance > 0 ? $0 / e.latentVariance : 0 })
    }

    /// The checkpoint rule over `(epoch, relative MSE, collision rate)` evaluations.
    static func select(_ evaluations: [(epoch: Int, relativeMse: Double, collisionRate: Double)], tolerance: Double) -> Int {
        guard let best = evaluations.map(\.relativeMse).min() else { return 0 }
        let candidates = evaluations.filter { $0.relativeMse <= best * (1 + tolerance) }
        return candidates.min { a, b in
            if a.collisionRate != b.collisionRate { return a.collisionRate < b.collisionRate }
            if a.relativeMse != b.relativeMse { return a.relativeMse < b.relativeMse }
            return a.epoch < b.epoch
        }!.epoch
    }

    /// Epochs not dominated in (MSE, collision rate) by an earlier-or-equal-ranked evaluation: the
    /// only ones the rule can select whatever later evaluations bring.
    static func paretoFront(_ evaluations: [(epoch: Int, relativeMse: Double, collisionRate: Double)]) -> Set<Int> {
        var front = Set<Int>()
        for a in evaluations {
            let dominated = evaluations.contains { b in
                b.epoch != a.epoch && b.relativeMse <= a.relativeMse && b.collisionRate <= a.collisionRate
                    && (b.relativeMse < a.relativeMse || b.collisionRate < a.collisionRate || b.epoch < a.epoch)
            }
            if !dominated { front.insert(a.epoch) }
        }
        return front
    }

    static func describe(_ r: Report.Epoch) -> String {
        func list(_ v: [Double], _ format: String) -> String { v.map { String(format: format, $0) }.joined(separator: "/") }
        var s = String(format: "loss %.5f (recon %.6f, codebook %.5f, commit %.5f) lr %.2e util %@ resets %d, train collisions %.2f%%",
                       r.reconstruction + r.codebook + r.commitment, r.reconstruction, r.codebook, r.commitment,
                       r.learningRate, list(r.trainingUtilization, "%.2f"), r.resets, r.trainingCollisionRate * 100)
        if let e = r.evaluation {
            s += String(format: " | eval: rel. MSE %.4f, raw collisions %.2f%%, util %@, perplexity %@",
                        e.relativeMse, e.collisionRate * 100, list(e.utilization, "%.3f"), list(e.perplexity, "%.0f"))
        }
        return s
    }
}

extension RQVAEWorkspace {
    /// Forward and backward over the first `rows` rows of ``input`` — one shard of a batch of
    /// `batchRows` rows (the loss is normalised by the whole batch). Writes the parameter gradient
    /// and returns `Σ‖x − x̂‖²` and `Σ_l Σ‖r_{l+1}‖²` over the shard.
    ///
    /// With `packed` weights (and a workspace made with `bf16`), the dense layers' products run in
    /// bfloat16 on AMX; the quantization (distances, codes, losses) stays in fp32.
    func trainingPass(rows: Int, batchRows: Int, parameters p: UnsafePointer<Float>, beta: Float,
                      packed: RQVAEPackedWeights? = nil) -> (recon: Double, quant: Double)
    {
        let net = network
        let d = net.inputDimension, m = net.latentDimension, L = net.levels, starts = net.codeStarts
        let grad = parameterGradient!
        let books = grad + net.codebookOffset
        books.update(repeating: 0, count: net.codebookCount)
        if rows == 0 {
            grad.update(repeating: 0, count: net.parameterCount)
            return (0, 0)
        }
        let codebookScale = 2 / Float(L * batchRows * m)
        let commitScale = beta * codebookScale

        let bf16 = packed != nil && packScratchA != nil
        encode(rows: rows, parameters: p, packed: bf16 ? packed : nil)
        computeCodeNorms(parameters: p)
        residualSum.update(repeating: 0, count: rows * m)
        var quant = 0.0
        quantize(rows: rows, parameters: p) { level in
            let book = books + starts[level] * m
            for r in 0..<rows {
                let j = Int(self.codes[r * L + level])
                let res = self.residual + r * m, g = book + j * m, s = self.residualSum + r * m
                for t in 0..<m {
                    g[t] -= codebookScale * res[t]
                    s[t] += res[t]
                }
                quant += Double(self.errors[level * self.capacity + r])
            }
        }
        decode(rows: rows, parameters: p, packed: bf16 ? packed : nil)
        let recon = MeanSquaredError.sumAndGradient(prediction: reconstruction, target: input, count: rows * d,
                                                    scale: 1 / Float(batchRows * d), gradient: gradientA)
        // Decoder backward: the gradient ends in `g` as dL/dzq.
        var g = gradientA, other = gradientB
        let dec = net.decoder, decOffsets = net.decoderOffsets
        for i in stride(from: dec.count - 1, through: 0, by: -1) {
            let layer = dec[i], w = decOffsets[i]
            let x = i == 0 ? UnsafePointer(quantized) : UnsafePointer(decoderOutputs[i - 1])
            if bf16, let packed {
                layer.backwardBF16(input: x, rows: rows, packedWeight: packed.decoder[i].backward, outputGradient: g,
                                   weightGradient: grad + w, biasGradient: grad + w + layer.weightCount, inputGradient: other,
                                   scratchA: packScratchA!, scratchB: packScratchB!)
            } else {
                layer.backward(input: x, rows: rows, weight: p + w, outputGradient: g,
                               weightGradient: grad + w, biasGradient: grad + w + layer.weightCount, inputGradient: other,
                               accumulate: false)
            }
            if i > 0 { Activation.reluBackward(output: decoderOutputs[i - 1], gradient: other, count: rows * layer.inputs) }
            swap(&g, &other)
        }
        // Straight-through: dL/dz = dL/dzq + commitment.
        BLAS.saxpy(count: rows * m, alpha: commitScale, x: residualSum, y: g)
        let enc = net.encoder, encOffsets = net.encoderOffsets
        for i in stride(from: enc.count - 1, through: 0, by: -1) {
            let layer = enc[i], w = encOffsets[i]
            let x = i == 0 ? UnsafePointer(input) : UnsafePointer(encoderOutputs[i - 1])
            if bf16, let packed {
                layer.backwardBF16(input: x, rows: rows, packedWeight: packed.encoder[i].backward, outputGradient: g,
                                   weightGradient: grad + w, biasGradient: grad + w + layer.weightCount,
                                   inputGradient: i == 0 ? nil : other, scratchA: packScratchA!, scratchB: packScratchB!)
            } else {
                layer.backward(input: x, rows: rows, weight: p + w, outputGradient: g,
                               weightGradient: grad + w, biasGradient: grad + w + layer.weightCount,
                               inputGradient: i == 0 ? nil : other, accumulate: false)
            }
            if i > 0 {
                Activation.reluBackward(output: encoderOutputs[i - 1], gradient: other, count: rows * layer.inputs)
                swap(&g, &other)
            }
        }
        return (recon, quant)
    }
}
