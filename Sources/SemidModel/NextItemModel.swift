import Dispatch
import Foundation
import SemidDecoding
import SemidMath
import SemidNeuralNetwork

/// The built-in next-item model: a causal transformer over a user's item history.
///
/// **Items.** Item `i`'s vector is `e_i = Σ_l T_l[c_l(i)] + V[i] + P·x_i` — the sum of its
/// code-token embeddings (one table per semantic-ID level), optionally a free per-item vector
/// and a projection of its content embedding (each part switchable in ``ModelConfiguration``).
///
/// **Trunk.** The input at position `t` is `√d·e_{item_t} + pos_t` (dropout); then pre-LN blocks
/// `x += Drop(Attn(LN(x)))`, `x += Drop(FFN(LN(x)))` with causal multi-head attention, and a final
/// layer norm gives the user state `h_t`. Sequences are packed without padding (see
/// ``PackedSequences``); every matrix product runs as one `sgemm` over all positions of the batch.
///
/// **Heads.** The items head scores every item as `h·e_i + b_i` (input and output item vectors
/// tied) with a full softmax; ``CodeHead`` is the autoregressive alternative. Training uses
/// teacher forcing at every position of every sequence.
///
/// Every layer's backward pass is hand-written (see `Layers/`) and checked against finite
/// differences in the tests.
public final class NextItemModel: @unchecked Sendable {
    /// The architecture.
    public let configuration: ModelConfiguration
    /// Every item's semantic ID.
    public let items: ItemCodes
    /// All trainable tensors.
    public let parameters: ParameterSet
    /// `[n, d]` the composed item vectors (recomputed by ``composeItemVectors()``).
    public let itemVectors: FloatBuffer
    let itemVectorGradient: FloatBuffer
    /// `[n, contentDimension]` content embeddings (training only; `nil` after loading).
    let content: FloatBuffer?
    let codeColumns: [[Int32]]
    /// The autoregressive code head, when configured.
    public let codeHead: CodeHead?

    /// The number of items.
    public var itemCount: Int { items.itemCount }
    /// `d`.
    public var dimension: Int { configuration.dimension }

    /// A freshly initialised model.
    ///
    /// - Parameters:
    ///   - content: row-major `[n, configuration.contentDimension]` content embeddings when
    ///     `contentDimension > 0`.
    ///   - trie: the index's trie (required by the code head's masked softmax).
    public convenience init(configuration: ModelConfiguration, items: ItemCodes, content: [Float]? = nil,
                            trie: CodeTrie? = nil, seed: UInt64) throws {
        try self.init(configuration: configuration, items: items, content: content, trie: trie, seed: seed, loading: false)
    }

    /// The designated initialiser; with `loading`, content embeddings are not required (the
    /// stored item vectors already include their projection) and item vectors are not composed.
    init(configuration: ModelConfiguration, items: ItemCodes, content: [Float]?, trie: CodeTrie?, seed: UInt64,
         loading: Bool) throws {
        try configuration.validate()
        let n = items.itemCount, d = configuration.dimension
        if configuration.contentDimension > 0 && !loading {
            guard let content, content.count == n * configuration.contentDimension else {
                throw ModelError.inconsistentInput("content embeddings must be [\(n), \(configuration.contentDimension)]")
            }
            self.content = FloatBuffer(content)
        } else {
            self.content = nil
        }
        self.configuration = configuration
        self.items = items
        var rng = SeededGenerator(seed: seed)
        let p = ParameterSet()
        let c = configuration
        let parts = Float((c.codeEmbeddings ? items.levels : 0) + (c.itemEmbeddings ? 1 : 0) + (c.contentDimension > 0 ? 1 : 0))
        let itemStd = 0.05 / parts.squareRoot()
        func normal(_ std: Float) -> (Int) -> Float { { _ in std * rng.nextGaussian() } }
        func xavier(_ fanIn: Int, _ fanOut: Int) -> (Int) -> Float { normal((2 / Float(fanIn + fanOut)).squareRoot()) }
        if c.codeEmbeddings {
            for (l, k) in items.codebookSizes.enumerated() {
                p.add("item.codes.\(l)", shape: [k, d], decay: false, initializer: normal(itemStd))
            }
        }
        if c.itemEmbeddings { p.add("item.embedding", shape: [n, d], decay: false, initializer: normal(itemStd)) }
        if c.contentDimension > 0 {
            p.add("item.content", shape: [c.contentDimension, d], decay: true, initializer: normal(itemStd))
        }
        if c.outputBias && c.hasItemHead { p.add("item.bias", shape: [n], decay: false) { _ in 0 } }
        p.add("position", shape: [c.maxHistory, d], decay: false, initializer: normal(0.05))
        for l in 0..<c.layers {
            let pre = "layer\(l)."
            p.add(pre + "ln1.gamma", shape: [d], decay: false) { _ in 1 }
            p.add(pre + "ln1.beta", shape: [d], decay: false) { _ in 0 }
            p.add(pre + "qkv.weight", shape: [d, 3 * d], decay: true, initializer: xavier(d, d))
            p.add(pre + "qkv.bias", shape: [3 * d], decay: false) { _ in 0 }
            p.add(pre + "out.weight", shape: [d, d], decay: true, initializer: xavier(d, d))
            p.add(pre + "out.bias", shape: [d], decay: false) { _ in 0 }
            p.add(pre + "ln2.gamma", shape: [d], decay: false) { _ in 1 }
            p.add(pre + "ln2.beta", shape: [d], decay: false) { _ in 0 }
            p.add(pre + "ff1.weight", shape: [d, c.feedForward], decay: true, initializer: xavier(d, c.feedForward))
            p.add(pre + "ff1.bias", shape: [c.feedForward], decay: false) { _ in 0 }
            p.add(pre + "ff2.weight", shape: [c.feedForward, d], decay: true, initializer: xavier(c.feedForward, d))
            p.add(pre + "ff2.bias", shape: [d], decay: false) { _ in 0 }
        }
        p.add("final.gamma", shape: [d], decay: false) { _ in 1 }
        p.add("final.beta", shape: [d], decay: false) { _ in 0 }
        if c.hasCodeHead {
            guard let trie else { throw ModelError.inconsistentInput("the code head needs the index's trie") }
            codeHead = try CodeHead(configuration: c, items: items, trie: trie, registeringIn: p, generator: &rng)
        } else {
            codeHead = nil
        }
        if c.userTokens {
            // Registered last, so a model without user tokens initialises exactly as before.
            let userStd = 0.05 / Float(c.userCodeSizes.count).squareRoot()
            for (l, k) in c.userCodeSizes.enumerated() {
                p.add("user.codes.\(l)", shape: [k, d], decay: false, initializer: normal(userStd))
            }
            if c.userTokenPlacement == .prefix {
                p.add("user.position", shape: [d], decay: false, initializer: normal(0.05))
            }
        }
        p.finalize()
        parameters = p
        itemVectors = FloatBuffer(count: n * d)
        itemVectorGradient = FloatBuffer(count: n * d)
        codeColumns = (0..<items.levels).map { items.column($0) }
        if !loading { composeItemVectors() }
    }

    /// A model from stored tensors (see ``StoredModel``): `values` by parameter name and the
    /// composed item vectors. The content projection, if any, is already folded into them.
    init(configuration: ModelConfiguration, items: ItemCodes, trie: CodeTrie?, values: [String: [Float]],
         itemVectors vectors: [Float]) throws {
        let n = items.itemCount, d = configuration.dimension
        guard vectors.count == n * d else {
            throw ModelError.corruptModel("item vectors have \(vectors.count) values, expected \(n) × \(d)")
        }
        // Build the same parameter layout as a fresh model (content needs a placeholder).
        let fresh = try NextItemModel(configuration: configuration, items: items, content: nil, trie: trie, seed: 0, loading: true)
        for entry in fresh.parameters.entries {
            guard let v = values[entry.name] else { throw ModelError.corruptModel("tensor \(entry.name) is missing") }
            guard v.count == entry.count else {
                throw ModelError.corruptModel("tensor \(entry.name) has \(v.count) values, expected shape \(entry.shape)")
            }
            fresh.parameters.set(entry.name, v)
        }
        self.configuration = configuration
        self.items = items
        self.parameters = fresh.parameters
        self.itemVectors = FloatBuffer(vectors)
        self.itemVectorGradient = FloatBuffer(count: 1)
        self.content = nil
        self.codeColumns = fresh.codeColumns
        self.codeHead = fresh.codeHead
    }

    // MARK: Item vectors

    /// Recomputes ``itemVectors`` from the current parameters (needs the content embeddings when
    /// the model has a content projection, i.e. not after loading).
    public func composeItemVectors() {
        let c = configuration, n = itemCount, d = dimension
        let e = itemVectors.pointer
        if c.itemEmbeddings {
            e.update(from: parameters.value("item.embedding"), count: n * d)
        } else {
            e.update(repeating: 0, count: n * d)
        }
        if c.codeEmbeddings {
            for l in 0..<items.levels {
                codeColumns[l].withUnsafeBufferPointer { idx in
                    Embedding.gather(table: parameters.value("item.codes.\(l)"), dim: d, indices: idx.baseAddress!,
                                     count: n, into: e, accumulate: true)
                }
            }
        }
        if c.contentDimension > 0, let content {
            BLAS.sgemm(m: n, n: d, k: c.contentDimension, a: content.pointer, lda: c.contentDimension,
                       b: parameters.value("item.content"), ldb: d, beta: 1, c: e, ldc: d)
        }
    }

    /// Back-propagates ``itemVectorGradient`` into the tensors the item vectors are made of.
    func composeBackward() {
        let c = configuration, n = itemCount, d = dimension
        let g = itemVectorGradient.constPointer
        if c.itemEmbeddings { BLAS.saxpy(count: n * d, alpha: 1, x: g, y: parameters.gradient("item.embedding")) }
        if c.codeEmbeddings {
            for l in 0..<items.levels {
                codeColumns[l].withUnsafeBufferPointer { idx in
                    Embedding.scatterAdd(gradient: g, dim: d, indices: idx.baseAddress!, count: n,
                                         into: parameters.gradient("item.codes.\(l)"))
                }
            }
        }
        if c.contentDimension > 0, let content {
            BLAS.sgemm(transposeA: true, m: c.contentDimension, n: d, k: n, a: content.pointer, lda: c.contentDimension,
                       b: g, ldb: d, beta: 1, c: parameters.gradient("item.content"), ldc: d)
        }
    }

    // MARK: Trunk

    /// Runs the transformer over `batch`, leaving the user state of every position in `ws.hidden`.
    /// With `training`, dropout masks are drawn from `generator` and kept for the backward pass.
    public func forward(_ batch: TrainingBatch, workspace ws: ModelWorkspace, training: Bool,
                        generator: inout SeededGenerator) {
        let c = configuration, d = dimension, f = c.feedForward
        let n = batch.tokenCount
        let layout = batch.layout
        let probCount = layout.probabilityCount(heads: c.heads)
        ws.reserve(tokens: n, probabilityValues: probCount)
        ws.layout = layout
        ws.dropoutActive = training
        let x0 = ws.residual[0].pointer
        if c.userTokens {
            userInputForward(batch, workspace: ws, training: training, generator: &generator)
        } else {
            batch.inputs.withUnsafeBufferPointer { idx in
                Embedding.gather(table: itemVectors.pointer, dim: d, indices: idx.baseAddress!, count: n,
                                 scale: c.scaleInput ? Float(d).squareRoot() : 1, into: x0)
            }
            batch.positions.withUnsafeBufferPointer { idx in
                Embedding.gather(table: parameters.value("position"), dim: d, indices: idx.baseAddress!, count: n,
                                 into: x0, accumulate: true)
            }
        }
        let drop = training && c.dropout > 0
        let attnDrop = training && c.attentionDropout > 0
        if drop {
            Dropout.fillMask(ws.embedMask.pointer, count: n * d, rate: c.dropout, generator: &generator)
            Dropout.apply(x0, mask: ws.embedMask.pointer, count: n * d)
        }
        for l in 0..<c.layers {
            let pre = "layer\(l)."
            let x = ws.residual[l].pointer
            LayerNorm.forward(x, rows: n, dim: d, gamma: parameters.value(pre + "ln1.gamma"), beta: parameters.value(pre + "ln1.beta"),
                              into: ws.ln1Out[l].pointer, normalized: ws.ln1Norm[l].pointer, inverseStd: ws.ln1Rstd[l].pointer)
            DenseLayer(inputs: d, outputs: 3 * d, layout: .inputsByOutputs).forward(ws.ln1Out[l].pointer, rows: n, weight: parameters.value(pre + "qkv.weight"),
                           bias: parameters.value(pre + "qkv.bias"), output: ws.qkv[l].pointer)
            if attnDrop {
                Dropout.fillMask(ws.probabilityMask[l].pointer, count: probCount, rate: c.attentionDropout, generator: &generator)
            }
            CausalSelfAttention.forward(qkv: ws.qkv[l].pointer, layout: layout, dim: d, heads: c.heads,
                                        probabilities: ws.probabilities[l].pointer,
                                        masks: attnDrop ? ws.probabilityMask[l].pointer : nil,
                                        firstKeyHidden: c.userTokens && batch.userPrefix ? batch.userHidden : [],
                                        into: ws.context[l].pointer)
            let t = ws.temp.pointer
            DenseLayer(inputs: d, outputs: d, layout: .inputsByOutputs).forward(ws.context[l].pointer, rows: n, weight: parameters.value(pre + "out.weight"),
                           bias: parameters.value(pre + "out.bias"), output: t)
            if drop {
                Dropout.fillMask(ws.attentionMask[l].pointer, count: n * d, rate: c.dropout, generator: &generator)
                Dropout.apply(t, mask: ws.attentionMask[l].pointer, count: n * d)
            }
            let mid = ws.mid[l].pointer
            for i in 0..<(n * d) { mid[i] = x[i] + t[i] }
            LayerNorm.forward(mid, rows: n, dim: d, gamma: parameters.value(pre + "ln2.gamma"), beta: parameters.value(pre + "ln2.beta"),
                              into: ws.ln2Out[l].pointer, normalized: ws.ln2Norm[l].pointer, inverseStd: ws.ln2Rstd[l].pointer)
            DenseLayer(inputs: d, outputs: f, layout: .inputsByOutputs).forward(ws.ln2Out[l].pointer, rows: n, weight: parameters.value(pre + "ff1.weight"),
                           bias: parameters.value(pre + "ff1.bias"), output: ws.ffPre[l].pointer)
            c.activation.forward(ws.ffPre[l].pointer, count: n * f, into: ws.ffAct[l].pointer)
            if drop {
                Dropout.fillMask(ws.ffMask[l].pointer, count: n * f, rate: c.dropout, generator: &generator)
                Dropout.apply(ws.ffAct[l].pointer, mask: ws.ffMask[l].pointer, count: n * f)
            }
            DenseLayer(inputs: f, outputs: d, layout: .inputsByOutputs).forward(ws.ffAct[l].pointer, rows: n, weight: parameters.value(pre + "ff2.weight"),
                           bias: parameters.value(pre + "ff2.bias"), output: t)
            if drop {
                Dropout.fillMask(ws.ffOutMask[l].pointer, count: n * d, rate: c.dropout, generator: &generator)
                Dropout.apply(t, mask: ws.ffOutMask[l].pointer, count: n * d)
            }
            let out = ws.residual[l + 1].pointer
            for i in 0..<(n * d) { out[i] = mid[i] + t[i] }
        }
        LayerNorm.forward(ws.residual[c.layers].pointer, rows: n, dim: d, gamma: parameters.value("final.gamma"),
                          beta: parameters.value("final.beta"), into: ws.hidden.pointer,
                          normalized: ws.finalNorm.pointer, inverseStd: ws.finalRstd.pointer)
    }

    /// Back-propagates `ws.dHidden` through the trunk of the last ``forward(_:workspace:training:generator:)``,
    /// accumulating parameter gradients and the input side's item-vector gradients.
    func backward(_ batch: TrainingBatch, workspace ws: ModelWorkspace) {
        let c = configuration, d = dimension, f = c.feedForward
        let n = batch.tokenCount
        let layout = ws.layout
        let drop = ws.dropoutActive && c.dropout > 0
        let attnDrop = ws.dropoutActive && c.attentionDropout > 0
        let dRes = ws.dResidual.pointer, dTmp = ws.dTemp.pointer, dTmp2 = ws.dTemp2.pointer, t = ws.temp.pointer
        LayerNorm.backward(gradient: ws.dHidden.pointer, rows: n, dim: d, gamma: parameters.value("final.gamma"),
                           normalized: ws.finalNorm.pointer, inverseStd: ws.finalRstd.pointer,
                           gammaGradient: parameters.gradient("final.gamma"), betaGradient: parameters.gradient("final.beta"),
                           inputGradient: dRes)
        for l in stride(from: c.layers - 1, through: 0, by: -1) {
            let pre = "layer\(l)."
            // Feed-forward branch.
            t.update(from: dRes, count: n * d)
            if drop { Dropout.apply(t, mask: ws.ffOutMask[l].pointer, count: n * d) }
            DenseLayer(inputs: f, outputs: d, layout: .inputsByOutputs).backward(input: ws.ffAct[l].pointer, rows: n, weight: parameters.value(pre + "ff2.weight"),
                            outputGradient: t, weightGradient: parameters.gradient(pre + "ff2.weight"),
                            biasGradient: parameters.gradient(pre + "ff2.bias"), inputGradient: ws.dFF.pointer, accumulate: true)
            if drop { Dropout.apply(ws.dFF.pointer, mask: ws.ffMask[l].pointer, count: n * f) }
            c.activation.backward(ws.ffPre[l].pointer, gradient: ws.dFF.pointer, count: n * f, into: ws.dFF.pointer)
            DenseLayer(inputs: d, outputs: f, layout: .inputsByOutputs).backward(input: ws.ln2Out[l].pointer, rows: n, weight: parameters.value(pre + "ff1.weight"),
                            outputGradient: ws.dFF.pointer, weightGradient: parameters.gradient(pre + "ff1.weight"),
                            biasGradient: parameters.gradient(pre + "ff1.bias"), inputGradient: dTmp, accumulate: true)
            LayerNorm.backward(gradient: dTmp, rows: n, dim: d, gamma: parameters.value(pre + "ln2.gamma"),
                               normalized: ws.ln2Norm[l].pointer, inverseStd: ws.ln2Rstd[l].pointer,
                               gammaGradient: parameters.gradient(pre + "ln2.gamma"), betaGradient: parameters.gradient(pre + "ln2.beta"),
                               inputGradient: dRes, accumulate: true)
            // Attention branch.
            t.update(from: dRes, count: n * d)
            if drop { Dropout.apply(t, mask: ws.attentionMask[l].pointer, count: n * d) }
            DenseLayer(inputs: d, outputs: d, layout: .inputsByOutputs).backward(input: ws.context[l].pointer, rows: n, weight: parameters.value(pre + "out.weight"),
                            outputGradient: t, weightGradient: parameters.gradient(pre + "out.weight"),
                            biasGradient: parameters.gradient(pre + "out.bias"), inputGradient: dTmp2, accumulate: true)
            CausalSelfAttention.backward(qkv: ws.qkv[l].pointer, layout: layout, dim: d, heads: c.heads,
                                         probabilities: ws.probabilities[l].pointer,
                                         masks: attnDrop ? ws.probabilityMask[l].pointer : nil,
                                         gradient: dTmp2, into: ws.dQKV.pointer)
            DenseLayer(inputs: d, outputs: 3 * d, layout: .inputsByOutputs).backward(input: ws.ln1Out[l].pointer, rows: n, weight: parameters.value(pre + "qkv.weight"),
                            outputGradient: ws.dQKV.pointer, weightGradient: parameters.gradient(pre + "qkv.weight"),
                            biasGradient: parameters.gradient(pre + "qkv.bias"), inputGradient: dTmp, accumulate: true)
            LayerNorm.backward(gradient: dTmp, rows: n, dim: d, gamma: parameters.value(pre + "ln1.gamma"),
                               normalized: ws.ln1Norm[l].pointer, inverseStd: ws.ln1Rstd[l].pointer,
                               gammaGradient: parameters.gradient(pre + "ln1.gamma"), betaGradient: parameters.gradient(pre + "ln1.beta"),
                               inputGradient: dRes, accumulate: true)
        }
        if drop { Dropout.apply(dRes, mask: ws.embedMask.pointer, count: n * d) }
        if c.userTokens {
            userInputBackward(batch, workspace: ws)
            return
        }
        batch.inputs.withUnsafeBufferPointer { idx in
            Embedding.scatterAdd(gradient: dRes, dim: d, indices: idx.baseAddress!, count: n,
                                 scale: c.scaleInput ? Float(d).squareRoot() : 1, into: itemVectorGradient.pointer)
        }
        batch.positions.withUnsafeBufferPointer { idx in
            Embedding.scatterAdd(gradient: dRes, dim: d, indices: idx.baseAddress!, count: n, into: parameters.gradient("position"))
        }
    }

    // MARK: User tokens

    /// The transformer input `x0` with user tokens: item positions get `√d·e_item + pos`, the
    /// user vector `u_s = Σ_l U_l[c_l]` (zero when dropped by ``ModelConfiguration/userTokenDropout``)
    /// goes to the prefix position as `√d·u_s + p_user`, or is added as `√d·u_s` to every
    /// position (``ModelConfiguration/UserTokenPlacement/add``). Positions a batch hides from the
    /// user (``TrainingBatch/userHidden``) do not attend to the prefix, or get nothing added.
    func userInputForward(_ batch: TrainingBatch, workspace ws: ModelWorkspace, training: Bool,
                          generator: inout SeededGenerator) {
        let c = configuration, d = dimension, sequences = batch.sequenceCount
        let levels = c.userCodeSizes.count
        precondition(batch.userLevels == levels && batch.userCodes.count == sequences * levels,
                     "a batch for a model with user tokens needs every sequence's user codes (use teacherForcingBatch / historyBatch)")
        let scale: Float = c.scaleInput ? Float(d).squareRoot() : 1
        ws.userVectors.reserve(sequences * d)
        ws.userKeep.reserve(sequences)
        let u = ws.userVectors.pointer, keep = ws.userKeep.pointer
        for s in 0..<sequences {
            keep[s] = training && c.userTokenDropout > 0 && generator.nextUnitFloat() < c.userTokenDropout ? 0 : 1
        }
        let tables = (0..<levels).map { parameters.value("user.codes.\($0)") }
        for s in 0..<sequences {
            let row = u + s * d
            row.update(repeating: 0, count: d)
            guard keep[s] != 0 else { continue }
            for l in 0..<levels {
                let code = batch.userCodes[s * levels + l]
                guard code >= 0 else { continue }
                let e = tables[l] + Int(code) * d
                for j in 0..<d { row[j] += e[j] }
            }
        }
        let x0 = ws.residual[0].pointer, items = itemVectors.pointer, pos = parameters.value("position")
        let userPosition: UnsafeMutablePointer<Float>? = batch.userPrefix ? parameters.value("user.position") : nil
        for s in 0..<sequences {
            let us = u + s * d
            let hidden = batch.hiddenFromUser(s)
            for r in batch.layout.bounds[s]..<batch.layout.bounds[s + 1] {
                let x = x0 + r * d
                let item = Int(batch.inputs[r])
                if item >= 0 {
                    let e = items + item * d, p = pos + Int(batch.positions[r]) * d
                    for j in 0..<d { x[j] = scale * e[j] + p[j] }
                    if !batch.userPrefix && Int(batch.positions[r]) >= hidden { for j in 0..<d { x[j] += scale * us[j] } }
                } else if let userPosition {
                    for j in 0..<d { x[j] = scale * us[j] + userPosition[j] }
                } else {
                    x.update(repeating: 0, count: d)
                }
            }
        }
    }

    /// The backward pass of ``userInputForward(_:workspace:training:generator:)`` from the input
    /// gradient `ws.dResidual` (dropout already applied): item-vector, position, user-position and
    /// user-table gradients.
    func userInputBackward(_ batch: TrainingBatch, workspace ws: ModelWorkspace) {
        let c = configuration, d = dimension, sequences = batch.sequenceCount
        let levels = c.userCodeSizes.count
        let scale: Float = c.scaleInput ? Float(d).squareRoot() : 1
        let dRes = ws.dResidual.pointer, dItems = itemVectorGradient.pointer, dPos = parameters.gradient("position")
        let dUserPosition: UnsafeMutablePointer<Float>? = batch.userPrefix ? parameters.gradient("user.position") : nil
        let keep = ws.userKeep.pointer
        let tables = (0..<levels).map { parameters.gradient("user.codes.\($0)") }
        let du = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { du.deallocate() }
        for s in 0..<sequences {
            du.update(repeating: 0, count: d)
            let hidden = batch.hiddenFromUser(s)
            for r in batch.layout.bounds[s]..<batch.layout.bounds[s + 1] {
                let g = dRes + r * d
                let item = Int(batch.inputs[r])
                if item >= 0 {
                    let e = dItems + item * d, p = dPos + Int(batch.positions[r]) * d
                    for j in 0..<d { e[j] += scale * g[j]; p[j] += g[j] }
                    if !batch.userPrefix && Int(batch.positions[r]) >= hidden { for j in 0..<d { du[j] += scale * g[j] } }
                } else if let dUserPosition {
                    for j in 0..<d { du[j] += scale * g[j]; dUserPosition[j] += g[j] }
                }
            }
            guard keep[s] != 0 else { continue }
            for l in 0..<levels {
                let code = batch.userCodes[s * levels + l]
                guard code >= 0 else { continue }
                let t = tables[l] + Int(code) * d
                for j in 0..<d { t[j] += du[j] }
            }
        }
    }

    // MARK: Items head

    /// The items head's mean cross-entropy over the positions with a target, with gradients:
    /// adds to the item-vector and bias gradients and writes `weight ×` the gradient of the
    /// hidden states to `ws.dHidden` (overwriting it).
    func itemHeadLoss(_ batch: TrainingBatch, workspace ws: ModelWorkspace, weight: Float) -> Double {
        let all = batch.tokenCount, d = dimension
        let targetRows = batch.targetCount
        guard targetRows < all else {
            return batch.targets.withUnsafeBufferPointer { t in
                itemHeadLoss(rows: all, hidden: ws.hidden.pointer, targets: t.baseAddress!, dHidden: ws.dHidden.pointer,
                             workspace: ws, weight: weight)
            }
        }
        // Positions without a target (user-token prefixes) are left out of the item logits: the
        // rows with a target are gathered, and their gradients scattered back.
        ws.headHidden.reserve(max(1, targetRows) * d)
        ws.headDHidden.reserve(max(1, targetRows) * d)
        ws.headTargets.removeAll(keepingCapacity: true)
        var rows: [Int] = []
        rows.reserveCapacity(targetRows)
        for (r, t) in batch.targets.enumerated() where t >= 0 {
            (ws.headHidden.pointer + rows.count * d).update(from: ws.hidden.pointer + r * d, count: d)
            ws.headTargets.append(t)
            rows.append(r)
        }
        ws.dHidden.zero(all * d)
        guard !rows.isEmpty else { return 0 }
        let loss = ws.headTargets.withUnsafeBufferPointer { t in
            itemHeadLoss(rows: rows.count, hidden: ws.headHidden.pointer, targets: t.baseAddress!,
                         dHidden: ws.headDHidden.pointer, workspace: ws, weight: weight)
        }
        for (i, r) in rows.enumerated() {
            (ws.dHidden.pointer + r * d).update(from: ws.headDHidden.pointer + i * d, count: d)
        }
        return loss
    }

    /// The items head over `rows` hidden states with a target each (see
    /// ``itemHeadLoss(_:workspace:weight:)``), writing their gradients to `dHiddenOut`.
    func itemHeadLoss(rows n: Int, hidden hiddenIn: UnsafeMutablePointer<Float>, targets targetsIn: UnsafePointer<Int32>,
                      dHidden dHiddenOut: UnsafeMutablePointer<Float>, workspace ws: ModelWorkspace, weight: Float) -> Double {
        let items = itemCount, d = dimension
        let chunk = ws.logitRows
        let bias: UnsafeMutablePointer<Float>? = configuration.outputBias ? parameters.value("item.bias") : nil
        let e = itemVectors.pointer
        // The rows are split into a fixed number of contiguous parts (``ModelWorkspace/itemHeadShards``,
        // not the core count, so results do not depend on it), processed on all cores; each part
        // runs single-threaded BLAS on its chunks with private item-vector and bias gradients,
        // summed afterwards in order (this avoids OpenBLAS's thread synchronisation on every
        // mid-sized GEMM).
        let workers = min(ws.headWorkers.count, max(1, (n + chunk - 1) / chunk))
        let losses = UnsafeMutablePointer<Double>.allocate(capacity: workers)
        let seconds = UnsafeMutablePointer<(Double, Double)>.allocate(capacity: workers)
        defer { losses.deallocate(); seconds.deallocate() }
        let wall0 = DispatchTime.now().uptimeNanoseconds
        do {
            let tp = SharedMutablePointer(UnsafeMutablePointer(mutating: targetsIn))
            let lossOut = SharedMutablePointer(losses), timeOut = SharedMutablePointer(seconds)
            let biasP = bias.map { SharedMutablePointer($0) }
            let eP = SharedMutablePointer(e), hidden = SharedMutablePointer(hiddenIn), dHidden = SharedMutablePointer(dHiddenOut)
            let buffers = ws.headWorkers
            let body: (Int) -> Void = { w in
                let buf = buffers[w]
                buf.itemGradient.zero(items * d)
                if biasP != nil { buf.biasGradient.zero(items) }
                let lo = n * w / workers, hi = n * (w + 1) / workers
                var total = 0.0, fwd: UInt64 = 0, bwd: UInt64 = 0
                var r0 = lo
                while r0 < hi {
                    let rows = min(chunk, hi - r0)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let z = buf.logits.pointer
                    let h = UnsafePointer(hidden.pointer) + r0 * d
                    BLAS.sgemm(transposeB: true, m: rows, n: items, k: d, a: h, lda: d, b: eP.pointer, ldb: d, c: z, ldc: items)
                    total += SoftmaxCrossEntropy.lossAndGradient(logits: z, rows: rows, classes: items, targets: tp.pointer + r0,
                                                                  weight: weight, bias: biasP.map { UnsafePointer($0.pointer) },
                                                                  rowLoss: buf.rowLoss.pointer, parallel: false)
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    BLAS.sgemm(transposeA: true, m: items, n: d, k: rows, a: z, lda: items, b: h, ldb: d, beta: 1,
                               c: buf.itemGradient.pointer, ldc: d)
                    BLAS.sgemm(m: rows, n: d, k: items, a: z, lda: items, b: eP.pointer, ldb: d, c: dHidden.pointer + r0 * d, ldc: d)
                    if biasP != nil {
                        BLAS.sgemv(transpose: true, m: rows, n: items, a: z, lda: items, x: buf.ones.pointer, beta: 1,
                                   y: buf.biasGradient.pointer)
                    }
                    let t2 = DispatchTime.now().uptimeNanoseconds
                    fwd += t1 - t0
                    bwd += t2 - t1
                    r0 += rows
                }
                lossOut.pointer[w] = total
                timeOut.pointer[w] = (Double(fwd) / 1e9, Double(bwd) / 1e9)
            }
            BLASRuntime.withThreadCount(1) {
                Parallel.forEachChunk(count: workers) { range in for w in range { body(w) } }
            }
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let de = itemVectorGradient.pointer
        for w in 0..<workers {
            BLAS.saxpy(count: items * d, alpha: 1, x: ws.headWorkers[w].itemGradient.pointer, y: de)
            if bias != nil { BLAS.saxpy(count: items, alpha: 1, x: ws.headWorkers[w].biasGradient.pointer, y: parameters.gradient("item.bias")) }
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        // Wall time split in the proportion of the workers' forward/backward time.
        let wall = Double(t0 - wall0) / 1e9
        var f = 0.0, b = 0.0, total = 0.0
        for w in 0..<workers { f += seconds[w].0; b += seconds[w].1; total += losses[w] }
        ws.timers.forward += wall * f / max(1e-12, f + b)
        ws.timers.backward += wall * b / max(1e-12, f + b) + Double(t1 - t0) / 1e9
        return total
    }

    // MARK: Training step

    /// Losses of one step (means over the positions with a target).
    public struct StepLoss: Sendable {
        /// The items head's cross-entropy (0 without that head).
        public var items: Double
        /// The code head's cross-entropy summed over levels (0 without that head).
        public var codes: Double
        /// Positions with a target.
        public var targets: Int
    }

    /// Forward and backward over `batch`: fills the parameter gradients (zeroed first) of the mean
    /// loss over the positions with a target. Timings go to `ws.timers`.
    public func computeGradients(_ batch: TrainingBatch, workspace ws: ModelWorkspace, training: Bool = true,
                                 generator: inout SeededGenerator) -> StepLoss {
        let t0 = DispatchTime.now().uptimeNanoseconds
        parameters.zeroGradients()
        itemVectorGradient.zero(itemCount * dimension)
        composeItemVectors()
        forward(batch, workspace: ws, training: training, generator: &generator)
        ws.timers.forward += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let targets = batch.targetCount
        let weight = 1 / Float(max(1, targets))
        var loss = StepLoss(items: 0, codes: 0, targets: targets)
        let n = batch.tokenCount, d = dimension
        if configuration.hasItemHead {
            loss.items = itemHeadLoss(batch, workspace: ws, weight: weight) / Double(max(1, targets))
        } else {
            ws.dHidden.zero(n * d)
        }
        if let codeHead {
            let w = configuration.head == .both ? configuration.codeHeadWeight : 1
            loss.codes = codeHead.lossAndGradient(batch, model: self, workspace: ws, weight: weight * w) / Double(max(1, targets))
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        backward(batch, workspace: ws)
        composeBackward()
        ws.timers.backward += Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
        return loss
    }

    // MARK: Inference

    /// The user state (final hidden vector at the last position) of each history, `[S, d]`.
    ///
    /// - Parameter users: with user tokens, the semantic ID of each history's user (`nil`, or a
    ///   missing entry, = unknown user: the zero user vector; see ``userTokenCodes(_:)`` for IDs
    ///   the model was not trained on). Ignored by a model without user tokens.
    public func userStates<C: Collection>(_ histories: [C], users: [[Int32]?]? = nil, workspace ws: ModelWorkspace) -> [Float]
    where C.Element == Int32 {
        let batch = historyBatch(histories, users: users)
        var rng = SeededGenerator(seed: 0)
        forward(batch, workspace: ws, training: false, generator: &rng)
        let d = dimension
        var out = [Float](repeating: 0, count: histories.count * d)
        out.withUnsafeMutableBufferPointer { o in
            for s in 0..<histories.count {
                let last = batch.layout.bounds[s + 1] - 1
                (o.baseAddress! + s * d).update(from: ws.hidden.pointer + last * d, count: d)
            }
        }
        return out
    }

    /// Item scores (logits of the items head) for `count` user states: `[count, n]`.
    public func itemScores(states: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        let items = itemCount, d = dimension
        let biased = configuration.outputBias && configuration.hasItemHead
        if biased {
            let b = parameters.value("item.bias")
            for r in 0..<count { (out + r * items).update(from: b, count: items) }
        }
        if count <= 4 {
            // A GEMM would first pack all item vectors (most of its time for a few rows).
            for r in 0..<count {
                BLAS.sgemv(m: items, n: d, a: itemVectors.pointer, lda: d, x: states + r * d, beta: biased ? 1 : 0, y: out + r * items)
            }
        } else {
            BLAS.sgemm(transposeB: true, m: count, n: items, k: d, a: states, lda: d, b: itemVectors.pointer, ldb: d,
                       beta: biased ? 1 : 0, c: out, ldc: items)
        }
    }
}
