import ArgumentParser
import Foundation
import Semid

/// `semid train`: train the built-in next-item model and store it in the index.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the built-in next-item model on user sequences and store it in the index.",
        discussion: """
            Leave-one-out split: per user, the last item is the test target, the second-last the validation target, the rest is training (teacher forcing at every position). Training keeps the epoch with the best validation NDCG@10 and stops after --patience epochs without improvement. The model is written with the index's atomic writer (staging directory + rename): an interrupted run leaves the index as it was, so a killed training can simply be restarted.
            """)

    @Argument(help: "The index directory.")
    var index: String

    @Option(help: "User sequences: TSV (user<TAB>item item …) or LC-Rec *.inter.json.")
    var sequences: String

    @Option(help: "Optional item content embeddings (.npy, row i = item i): adds a learned projection to item vectors.")
    var embeddings: String?

    @Option(help: "Maximum epochs.")
    var epochs = TrainingOptions.training.epochs

    @OptionGroup var options: TrainingOptions




    @Option(help: "Transformer blocks.")
    var layers = TrainingOptions.model.layers

    @Option(help: "Attention heads.")
    var heads = TrainingOptions.model.heads

    @Option(help: "Dropout on embeddings, residual branches and feed-forward layers.")
    var dropout = TrainingOptions.model.dropout

    @Option(help: "Dropout on attention probabilities (default: --dropout).")
    var attentionDropout: Float?

    @Option(help: "Seed for initialisation, shuffling and dropout.")
    var seed = TrainingOptions.training.seed

    @Option(help: "History length the model reads (most recent items).")
    var maxHistory = TrainingOptions.model.maxHistory

    @Option(help: "Stop after this many epochs without a better validation NDCG@10 (0 = never).")
    var patience = TrainingOptions.training.patience

    @Option(help: "Output head: items (item softmax, marginalised over the trie at decoding), codes (autoregressive code head) or both.")
    var head: ModelConfiguration.Head = .items

    @Option(help: "Feed-forward width (default 4·dim).")
    var feedForward: Int?


    @Option(help: "Learning-rate decay after warm-up: constant, linear or cosine.")
    var decay = "constant"

    @Option(help: "AdamW decoupled weight decay.")
    var weightDecay = TrainingOptions.training.optimizer.weightDecay

    @Option(help: "Clip the global gradient norm (0 = off).")
    var clip = TrainingOptions.training.optimizer.clipNorm

    @Option(help: "Stop after this many minutes (the best epoch so far is kept; 0 = no limit).")
    var timeLimit = TrainingOptions.training.timeLimit / 60


    @Option(help: "Code head: loss weight when --head both.")
    var codeHeadWeight = TrainingOptions.model.codeHeadWeight

    @Option(help: "Code head: weight in decoding when --head both (0 = items head only, 1 = code head only).")
    var codeHeadMix = TrainingOptions.model.codeHeadMix

    @Flag(help: "Item vectors without the sum of code-token embeddings.")
    var noCodeEmbeddings = false

    @Flag(help: "Item vectors without a free per-item embedding.")
    var noItemEmbeddings = false

    @Flag(help: "Code head: plain softmax over all codes instead of the trie's children.")
    var unmaskedCodeSoftmax = false

    @Flag(help: "Give the model the user's semantic ID (from `semid users`) as a token: needs user IDs for every user of --sequences.")
    var userTokens = false

    @Option(help: "With --user-tokens: where the user token enters, prefix (an extra first position) or add (added to every position).")
    var userTokenPlacement: ModelConfiguration.UserTokenPlacement = .prefix

    @Option(help: "With --user-tokens: probability of replacing a training sequence's user vector by zeros (the unknown-user input).")
    var userTokenDropout: Float = 0.1

    @Option(help: "With --user-tokens: read only the first N user-ID positions (default: all; with causal user IDs, the quantizer's codes without a suffix).")
    var userTokenLevels: Int?

    @Option(help: "With --user-tokens: user IDs seen in training, causal (encoded from the items before each trained position) or stored (the final IDs, which describe the training targets).")
    var userIdTraining: TrainingConfiguration.UserIDTraining = .causal

    @Option(help: "With causal user IDs: the item vectors `semid users` was given as --item-embeddings (not needed when it used the index's decoded codes).")
    var userItemEmbeddings: String?

    @Option(help: "With causal user IDs: the per-user text embeddings `semid users` was given as --user-embeddings.")
    var userEmbeddings: String?

    @Option(help: "Write the index with the model here instead of in place.")
    var out: String?

    @Flag(help: "Replace --out if it is an existing index.")
    var force = false

    @OptionGroup var writer: WriterOptions

    @Flag(help: "Train and report, but do not write the model.")
    var dryRun = false

    @Flag(help: "Print the final summary as JSON.")
    var json = false

    @Flag(help: "No per-epoch lines.")
    var quiet = false

    func validate() throws {
        if LearningRateSchedule.Decay(rawValue: decay) == nil {
            throw ValidationError("--decay must be constant, linear or cosine (got \(decay))")
        }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1 (got \(epochs))") }
        let limits = ModelConfiguration.Limits.self
        if layers < 1 || layers > limits.layers { throw ValidationError("--layers must be in 1…\(limits.layers) (got \(layers))") }
        if heads < 1 || heads > limits.heads || options.dim % heads != 0 {
            throw ValidationError("--heads must be in 1…\(limits.heads) and divide --dim (got \(heads) for --dim \(options.dim))")
        }
        if !(0..<1).contains(dropout) { throw ValidationError("--dropout must be in [0, 1) (got \(dropout))") }
        if let a = attentionDropout, !(0..<1).contains(a) { throw ValidationError("--attention-dropout must be in [0, 1) (got \(a))") }
        if maxHistory < 1 || maxHistory > limits.maxHistory {
            throw ValidationError("--max-history must be in 1…\(limits.maxHistory) (got \(maxHistory))")
        }
        if patience < 0 { throw ValidationError("--patience must be 0 or more") }
        if let f = feedForward, f < 1 || f > limits.feedForward {
            throw ValidationError("--feed-forward must be in 1…\(limits.feedForward) (got \(f))")
        }
        if timeLimit < 0 { throw ValidationError("--time-limit must be 0 or more") }
        if !(0...1).contains(codeHeadMix) { throw ValidationError("--code-head-mix must be in [0, 1]") }
        if !(0..<1).contains(userTokenDropout) { throw ValidationError("--user-token-dropout must be in [0, 1) (got \(userTokenDropout))") }
        if let l = userTokenLevels, l < 1 { throw ValidationError("--user-token-levels must be at least 1 (got \(l))") }
        if (userItemEmbeddings != nil || userEmbeddings != nil) && (!userTokens || userIdTraining != .causal) {
            throw ValidationError("--user-item-embeddings and --user-embeddings are read only with --user-tokens and causal user IDs")
        }
        if noCodeEmbeddings && noItemEmbeddings && embeddings == nil {
            throw ValidationError("--no-code-embeddings with --no-item-embeddings needs --embeddings (an item needs some vector)")
        }
    }

    func run() throws {
        var model = ModelConfiguration()
        model.layers = layers
        model.heads = heads
        model.feedForward = feedForward ?? 4 * options.dim
        model.dropout = dropout
        model.attentionDropout = attentionDropout ?? dropout
        model.maxHistory = maxHistory
        model.head = head
        model.codeEmbeddings = !noCodeEmbeddings
        model.itemEmbeddings = !noItemEmbeddings
        model.codeHeadWeight = codeHeadWeight
        model.codeHeadMix = codeHeadMix
        model.maskCodeSoftmax = !unmaskedCodeSoftmax
        model.userTokens = userTokens
        model.userTokenPlacement = userTokenPlacement
        model.userTokenDropout = userTokenDropout
        var training = TrainingConfiguration()
        options.apply(to: &model, &training)
        training.epochs = epochs
        training.decay = LearningRateSchedule.Decay(rawValue: decay) ?? .constant
        training.optimizer.weightDecay = weightDecay
        training.optimizer.clipNorm = clip
        training.patience = patience
        training.timeLimit = timeLimit * 60
        training.seed = seed
        training.userIDSource = userIdTraining
        var inputs = ModelTraining.Inputs(index: index, sequences: sequences, embeddings: embeddings, output: out)
        inputs.dryRun = dryRun
        inputs.overwrite = force
        inputs.waiting = writer.waiting
        inputs.userTokenLevels = userTokenLevels
        inputs.userItemEmbeddings = userItemEmbeddings
        inputs.userEmbeddings = userEmbeddings
        let quiet = self.quiet || json
        // Printed with the first epoch, so that bad input fails with its one-line message only.
        nonisolated(unsafe) var announced = false
        var request = TrainRequest(inputs: inputs, model: model, training: training)
        request.onEpoch = { e in
            guard !quiet else { return }
            if !announced {
                Console.err("training on \(BLASRuntime.summary)")
                announced = true
            }
            var line = String(format: "epoch %3d  loss %.4f", e.epoch, e.itemLoss + e.codeLoss)
            if e.codeLoss > 0 && e.itemLoss > 0 { line += String(format: " (items %.4f, codes %.4f)", e.itemLoss, e.codeLoss) }
            if let v = e.validation {
                line += String(format: "  valid R@10 %.4f N@10 %.4f", v.recall10, v.ndcg10) + (e.best ? " *" : "  ")
            }
            line += String(format: "  %.1fs (fwd %.1f, bwd %.1f, opt %.1f) + valid %.1fs  lr %.2g",
                           e.trainSeconds, e.timers.forward, e.timers.backward, e.timers.optimizer, e.validationSeconds, e.learningRate)
            Console.err(line)
        }
        let result = try Pipeline.train(request)
        let (report, summary) = (result.report, result.summary)
        if json {
            Console.out(try JSONOutput.render(summary))
            return
        }
        let t = report.timers
        let epochs = report.epochs.count
        Console.out(String(format: "trained %d epochs in %@ (%@ per epoch: forward %.2fs, backward %.2fs, optimizer %.2fs); stopped by %@",
                           epochs, Format.seconds(report.seconds), Format.seconds(report.epochs.map(\.trainSeconds).reduce(0, +) / Double(max(1, epochs))),
                           t.forward / Double(max(1, epochs)), t.backward / Double(max(1, epochs)), t.optimizer / Double(max(1, epochs)),
                           report.stopReason))
        if let v = report.bestValidation {
            Console.out(String(format: "best epoch %d: valid recall@5 %.4f ndcg@5 %.4f recall@10 %.4f ndcg@10 %.4f (%d users, %@ ranking)",
                               report.bestEpoch, v.recall5, v.ndcg5, v.recall10, v.ndcg10, v.users, v.method))
        }
        Console.out(dryRun ? "dry run: the model was not written" : "model stored in \(out ?? index)")
    }
}
