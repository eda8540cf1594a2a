import Foundation
import SemidDecoding
import SemidEvaluation
import SemidIndex
import SemidStorage

/// What the manifest records about a trained model, under `extensions.model`.
public struct ModelSummary: Codable, Sendable {
    /// Version of this section's layout.
    public var formatVersion: Int
    /// The architecture.
    public var configuration: ModelConfiguration
    /// The training settings.
    public var training: TrainingConfiguration
    /// Fingerprints of the training inputs (sequences, content embeddings).
    public var inputs: [InputFingerprint]
    /// The epoch whose weights were kept.
    public var bestEpoch: Int
    /// Why training ended: `"epochs"`, `"early-stopping"` or `"time-limit"`.
    public var stopReason: String
    /// Total wall-clock seconds of training; only in manifests written before semid kept
    /// timings out of the index (the same inputs and seed now give the same bytes).
    public var trainingSeconds: Double?
    /// Training sequences per epoch.
    public var sequences: Int
    /// Target positions per epoch.
    public var targets: Int
    /// Validation figures of the kept epoch.
    public var validation: ValidationMetrics?
    /// Per-epoch figures: epoch, losses, validation NDCG@10 and Recall@10.
    public var epochs: [EpochSummary]
    /// The BLAS library and kernel used for training (the weights' last bits depend on it).
    public var blas: String
    /// Array names of the stored tensors (all prefixed `model.`).
    public var tensors: [String]

    /// The layout version written by this code.
    public static let currentFormatVersion = 1
}

/// One epoch in the manifest.
public struct EpochSummary: Codable, Sendable {
    /// 1-based epoch.
    public var epoch: Int
    /// Mean training loss of the items head (0 without it).
    public var itemLoss: Double
    /// Mean training loss of the code head, summed over levels (0 without it).
    public var codeLoss: Double
    /// Validation NDCG@10, when the epoch was validated.
    public var validNdcg10: Double?
    /// Validation Recall@10, when the epoch was validated.
    public var validRecall10: Double?
    /// Seconds in forward passes (older manifests only; timings are no longer stored).
    public var forwardSeconds: Double?
    /// Seconds in backward passes (older manifests only; timings are no longer stored).
    public var backwardSeconds: Double?
    /// Seconds in gradient clipping and AdamW updates (older manifests only; timings are no longer stored).
    public var optimizerSeconds: Double?
    /// Seconds of the epoch's training steps (older manifests only; timings are no longer stored).
    public var trainSeconds: Double?
    /// Seconds of validation (older manifests only; timings are no longer stored).
    public var validationSeconds: Double?
}

/// Stores a trained model in an index and loads it back.
///
/// Every parameter tensor is an index attachment (a zstd shard) named `model.<tensor>`, plus
/// `model.item_vectors` (`[items, d]`, the composed item vectors, so inference needs neither
/// the content embeddings nor the composition); the configuration and training summary go to
/// `manifest.extensions["model"]`. Writing goes through ``IndexStore/write(_:catalog:to:overwrite:progress:)``
/// (staging directory + rename), so an interrupted `train` leaves the index as it was.
public enum StoredModel {
    /// Attachment name prefix.
    public static let prefix = "model."
    /// Manifest extension key.
    public static let extensionKey = "model"

    /// Whether `index` holds a trained model.
    public static func hasModel(_ index: SemanticIndex) -> Bool {
        index.manifest.extensions?[extensionKey] != nil
    }

    /// Replaces any model in `index` (in memory) by `model` with `summary`.
    public static func attach(_ model: NextItemModel, summary: ModelSummary, to index: inout SemanticIndex) throws {
        for name in index.attachments.keys where name.hasPrefix(prefix) { index.attachments.removeValue(forKey: name) }
        var names: [String] = []
        for entry in model.parameters.entries {
            let name = prefix + entry.name
            index.attachments[name] = ShardArray(float32: model.parameters.copy(entry.name), shape: entry.shape)
            names.append(name)
        }
        let vectors = prefix + "item_vectors"
        index.attachments[vectors] = ShardArray(float32: model.itemVectors.array(model.itemCount * model.dimension),
                                                shape: [model.itemCount, model.dimension])
        names.append(vectors)
        var s = summary
        s.tensors = names
        var extensions = index.manifest.extensions ?? [:]
        extensions[extensionKey] = try JSONValue(encoding: s)
        index.manifest.extensions = extensions
    }

    /// Writes `index` (with its model) to `path` atomically, keeping its catalog (verified
    /// against the manifest it was read with). Replaces an existing index at `path` only with
    /// `overwrite` (or when it is the one `index` was read from).
    public static func write(_ index: SemanticIndex, to path: String, overwrite: Bool = true,
                             waiting: DirectoryLock.Waiting = .wait) throws {
        guard let source = index.path else { throw ModelError.inconsistentInput("the index was not read from disk") }
        try IndexStore.write(index, catalog: .extending(path: source + "/" + IndexStore.catalogFile, adding: []),
                             to: path, overwrite: overwrite, waiting: waiting)
    }

    /// The summary of the model in `index`.
    public static func summary(of index: SemanticIndex) throws -> ModelSummary {
        let path = index.path ?? "index"
        guard let section = index.manifest.extensions?[extensionKey] else { throw ModelError.noModel(path: path) }
        let summary = try section.decode(ModelSummary.self, source: path + "/manifest.json: extensions.model")
        guard summary.formatVersion <= ModelSummary.currentFormatVersion else {
            throw ModelError.corruptModel("model format version \(summary.formatVersion) is newer than this semid supports (\(ModelSummary.currentFormatVersion))")
        }
        try summary.configuration.validateStored(source: path + "/manifest.json: extensions.model.configuration")
        return summary
    }

    /// The item IDs of `index` as the model sees them.
    public static func itemCodes(of index: SemanticIndex) throws -> ItemCodes {
        try ItemCodes(codes: index.ids.values, codebookSizes: index.manifest.codeSizes)
    }

    /// Loads the model stored in `index`; `trie` must be the index's trie.
    public static func load(from index: SemanticIndex, trie: CodeTrie) throws -> (model: NextItemModel, summary: ModelSummary) {
        let summary = try summary(of: index)
        let path = index.path ?? "index"
        var values: [String: [Float]] = [:]
        for (name, array) in index.attachments where name.hasPrefix(prefix) {
            values[String(name.dropFirst(prefix.count))] = try array.float32Values(source: path + "/" + name)
        }
        guard let vectors = values.removeValue(forKey: "item_vectors") else {
            throw ModelError.corruptModel("\(path): array model.item_vectors is missing")
        }
        let items = try itemCodes(of: index)
        let c = summary.configuration
        let d = c.dimension
        if vectors.count % d == 0, vectors.count / d != items.itemCount {
            throw ModelError.corruptModel("the model was trained for \(vectors.count / d) items but \(path) now has \(items.itemCount); run `semid train` again")
        }
        guard vectors.count == items.itemCount * d else {
            throw ModelError.corruptModel("\(path): model.item_vectors holds \(vectors.count) values, not \(items.itemCount) items × dimension \(d)")
        }
        // The stored tensors must at least hold the transformer blocks the configuration
        // describes; checked before the model allocates them.
        let stored = values.values.reduce(0) { $0 + $1.count }
        let blocks = c.layers.multipliedReportingOverflow(by: 4 * d * d + 2 * d * c.feedForward)
        guard !blocks.overflow, blocks.partialValue <= stored else {
            throw ModelError.corruptModel("\(path): the model's configuration (\(c.layers) layers, dimension \(d), feed-forward \(c.feedForward)) needs more weights than the \(stored) stored")
        }
        if summary.configuration.codeEmbeddings,
           items.codebookSizes.enumerated().contains(where: { l, k in
               index.attachments[prefix + "item.codes.\(l)"].map { $0.shape.first != k } ?? false }) {
            throw ModelError.corruptModel("the model was trained for other semantic IDs than \(path) holds; run `semid train` again")
        }
        let model = try NextItemModel(configuration: summary.configuration, items: items, trie: trie, values: values,
                                      itemVectors: vectors)
        return (model, summary)
    }
}
