import Foundation
import SemidNeuralNetwork

/// The shape of the built-in next-item model. Stored in the index manifest under
/// `extensions.model.configuration`.
public struct ModelConfiguration: Codable, Sendable, Equatable {
    /// Which output head(s) the model trains and decodes with.
    public enum Head: String, Codable, Sendable, CaseIterable {
        /// Softmax over all items, item vectors composed from code-token embeddings (tied with the
        /// input side); decoding marginalises it over the trie, so per-level probabilities are exact.
        case items
        /// Autoregressive code head: level 1, then level 2 given level 1's code, …, each a softmax
        /// over the codes that exist under the prefix (the trie's children).
        case codes
        /// Both heads trained jointly (losses added); decoding mixes their per-level
        /// log-probabilities with weight ``ModelConfiguration/codeHeadMix`` on the code head.
        case both
    }

    /// Width `d` of the transformer.
    public var dimension = 64
    /// Transformer blocks.
    public var layers = 2
    /// Attention heads (`d` must be a multiple).
    public var heads = 1
    /// Hidden width of each block's feed-forward network.
    public var feedForward = 256
    /// Feed-forward activation.
    public var activation: Activation = .gelu
    /// Dropout on the input embeddings, the residual branches and the feed-forward hidden layer.
    public var dropout: Float = 0.5
    /// Dropout on the attention probabilities.
    public var attentionDropout: Float = 0.5
    /// The most recent items of a history the model reads (older items are dropped).
    public var maxHistory = 50
    /// An item's vector includes the sum of its code-token embeddings (one table per ID level).
    public var codeEmbeddings = true
    /// An item's vector includes a free per-item embedding.
    public var itemEmbeddings = true
    /// An item's vector includes a learned projection of its content embedding of this width
    /// (0 = none). The projection is folded into the stored item vectors, so inference does not
    /// need the content embeddings.
    public var contentDimension = 0
    /// A learned per-item bias on the item logits (items head).
    public var outputBias = true
    /// Multiply input item vectors by `√d` (as in SASRec).
    public var scaleInput = true
    /// The output head(s).
    public var head: Head = .items
    /// Weight of the code head's loss when ``head`` is `.both`.
    public var codeHeadWeight: Float = 1
    /// Hidden width of the code head's per-level network.
    public var codeHeadHidden = 128
    /// Restrict each level's softmax to the codes that exist under the prefix (code head).
    public var maskCodeSoftmax = true
    /// Weight of the code head in decoding when ``head`` is `.both` (0 = items head only).
    public var codeHeadMix: Float = 0.5

    /// Where the user token enters the transformer (see ``ModelConfiguration/userTokens``).
    public enum UserTokenPlacement: String, Codable, Sendable, CaseIterable {
        /// One extra position before the oldest item, input `√d·u + p_user` (a learned position
        /// of its own); every item position attends to it under the causal mask. It has no
        /// target, so the heads skip it.
        case prefix
        /// `√d·u` added to the input of every item position (no extra position).
        case add
    }

    /// The model reads the user's semantic ID (`semid users`): the user vector
    /// `u = Σ_l U_l[c_l]` (one table `U_l` of ``userCodeSizes``[l] × d per user-ID position)
    /// enters the transformer as ``userTokenPlacement`` says.
    public var userTokens = false
    /// Where the user vector enters the transformer.
    public var userTokenPlacement: UserTokenPlacement = .prefix
    /// Rows of the user code table of each user-ID position the model reads (the index's user-ID
    /// vocabulary at training time, possibly fewer positions than the IDs have). A code at or
    /// beyond a table's size — e.g. a suffix rank that grew after training with
    /// `semid users --add` — contributes nothing (a zero vector); ID positions beyond the
    /// tables are ignored.
    public var userCodeSizes: [Int] = []
    /// During training, the whole user vector of a sequence is replaced by zeros with this
    /// probability (what the model then sees is what a history without a known user gets).
    public var userTokenDropout: Float = 0

    /// The defaults.
    public init() {}

    /// Decodes a stored configuration; keys missing in models stored by older versions (the user
    /// token settings) take their defaults, so those models still load.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ModelConfiguration()
        dimension = try c.decode(.dimension, default: d.dimension)
        layers = try c.decode(.layers, default: d.layers)
        heads = try c.decode(.heads, default: d.heads)
        feedForward = try c.decode(.feedForward, default: d.feedForward)
        activation = try c.decode(.activation, default: d.activation)
        dropout = try c.decode(.dropout, default: d.dropout)
        attentionDropout = try c.decode(.attentionDropout, default: d.attentionDropout)
        maxHistory = try c.decode(.maxHistory, default: d.maxHistory)
        codeEmbeddings = try c.decode(.codeEmbeddings, default: d.codeEmbeddings)
        itemEmbeddings = try c.decode(.itemEmbeddings, default: d.itemEmbeddings)
        contentDimension = try c.decode(.contentDimension, default: d.contentDimension)
        outputBias = try c.decode(.outputBias, default: d.outputBias)
        scaleInput = try c.decode(.scaleInput, default: d.scaleInput)
        head = try c.decode(.head, default: d.head)
        codeHeadWeight = try c.decode(.codeHeadWeight, default: d.codeHeadWeight)
        codeHeadHidden = try c.decode(.codeHeadHidden, default: d.codeHeadHidden)
        maskCodeSoftmax = try c.decode(.maskCodeSoftmax, default: d.maskCodeSoftmax)
        codeHeadMix = try c.decode(.codeHeadMix, default: d.codeHeadMix)
        userTokens = try c.decode(.userTokens, default: d.userTokens)
        userTokenPlacement = try c.decode(.userTokenPlacement, default: d.userTokenPlacement)
        userCodeSizes = try c.decode(.userCodeSizes, default: d.userCodeSizes)
        userTokenDropout = try c.decode(.userTokenDropout, default: d.userTokenDropout)
    }

    /// Upper bounds on a model's sizes, far above any use and low enough that the arrays they
    /// imply can be allocated. Settings and stored configurations beyond them are refused
    /// before anything is allocated.
    public enum Limits {
        /// Width `d`.
        public static let dimension = 4096
        /// Transformer blocks.
        public static let layers = 64
        /// Attention heads.
        public static let heads = 64
        /// Feed-forward width.
        public static let feedForward = 65_536
        /// History length read.
        public static let maxHistory = 4096
        /// The code head's hidden width.
        public static let codeHeadHidden = 65_536
        /// Content-embedding width.
        public static let contentDimension = 1 << 20
        /// Rows of one user code table.
        public static let userCodeSize = 65_536
        /// User-ID positions read.
        public static let userIDPositions = 65
    }

    /// Throws a ``ModelError/corruptModel(_:)`` naming the field (as in the manifest, under
    /// `source`) of the first stored size beyond ``Limits`` or otherwise invalid.
    public func validateStored(source: String) throws {
        func check(_ field: String, _ value: Int, _ range: ClosedRange<Int>) throws {
            guard range.contains(value) else {
                throw ModelError.corruptModel("\(source): \(field) is \(value); expected \(range.lowerBound)…\(range.upperBound)")
            }
        }
        try check("dimension", dimension, 2...Limits.dimension)
        try check("layers", layers, 1...Limits.layers)
        try check("heads", heads, 1...Limits.heads)
        try check("feed_forward", feedForward, 1...Limits.feedForward)
        try check("max_history", maxHistory, 1...Limits.maxHistory)
        try check("content_dimension", contentDimension, 0...Limits.contentDimension)
        try check("code_head_hidden", codeHeadHidden, 1...Limits.codeHeadHidden)
        try check("user_code_sizes count", userCodeSizes.count, 0...Limits.userIDPositions)
        for (l, size) in userCodeSizes.enumerated() { try check("user_code_sizes[\(l)]", size, 1...Limits.userCodeSize) }
        do {
            try validate()
        } catch let error as ModelError {
            throw ModelError.corruptModel("\(source): \(error)")
        }
    }

    /// Throws a ``ModelError/invalidParameter(name:value:expected:)`` naming the first bad
    /// setting by its property (e.g. `dimension`, `maxHistory`).
    public func validate() throws {
        func bad(_ name: String, _ value: Any, _ expected: String) -> ModelError {
            .invalidParameter(name: name, value: "\(value)", expected: expected)
        }
        guard dimension >= 2 && dimension <= Limits.dimension else { throw bad("dimension", dimension, "in 2…\(Limits.dimension)") }
        guard layers >= 1 && layers <= Limits.layers else { throw bad("layers", layers, "in 1…\(Limits.layers)") }
        guard heads >= 1, heads <= Limits.heads, dimension % heads == 0 else {
            throw bad("heads", "\(heads) heads for dimension \(dimension)", "in 1…\(Limits.heads) and divide the dimension")
        }
        guard feedForward >= 1 && feedForward <= Limits.feedForward else {
            throw bad("feedForward", feedForward, "in 1…\(Limits.feedForward)")
        }
        guard maxHistory <= Limits.maxHistory else { throw bad("maxHistory", maxHistory, "at most \(Limits.maxHistory)") }
        guard contentDimension >= 0 && contentDimension <= Limits.contentDimension else {
            throw bad("contentDimension", contentDimension, "at most \(Limits.contentDimension) (the content embeddings' width)")
        }
        guard codeHeadHidden <= Limits.codeHeadHidden else { throw bad("codeHeadHidden", codeHeadHidden, "at most \(Limits.codeHeadHidden)") }
        guard (0..<1).contains(dropout), (0..<1).contains(attentionDropout) else {
            throw bad("dropout", "\(dropout), attention \(attentionDropout)", "in [0, 1)")
        }
        guard maxHistory >= 1 else { throw bad("maxHistory", maxHistory, "at least 1") }
        guard codeEmbeddings || itemEmbeddings || contentDimension > 0 else {
            throw bad("item vector", "no code embeddings, item embeddings or content", "at least one of them")
        }
        guard codeHeadHidden >= 1 else { throw bad("codeHeadHidden", codeHeadHidden, "at least 1") }
        guard (0...1).contains(codeHeadMix) else { throw bad("codeHeadMix", codeHeadMix, "in [0, 1]") }
        if userTokens {
            guard !userCodeSizes.isEmpty, userCodeSizes.count <= Limits.userIDPositions,
                  userCodeSizes.allSatisfy({ $0 >= 1 && $0 <= Limits.userCodeSize }) else {
                throw bad("userCodeSizes", userCodeSizes, "at least one user-ID position with a vocabulary of 1 or more")
            }
            guard (0..<1).contains(userTokenDropout) else { throw bad("userTokenDropout", userTokenDropout, "in [0, 1)") }
        }
    }

    /// Whether the model has the items head.
    public var hasItemHead: Bool { head != .codes }
    /// Whether the model has the code head.
    public var hasCodeHead: Bool { head != .items }
}

/// Errors of model training, loading and inference, each one line.
public enum ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A setting is out of range: `name` is the configuration's property (e.g. `dimension`,
    /// `learningRate`), `value` what it is, `expected` what it must be.
    case invalidParameter(name: String, value: String, expected: String)
    /// Settings that cannot be used together, or a run that cannot go on with them; the text says why.
    case invalidConfiguration(String)
    /// The index holds no trained model.
    case noModel(path: String)
    /// The stored model is unreadable or does not match the index; the text says what.
    case corruptModel(String)
    /// The inputs do not fit (e.g. embeddings with a different number of rows); the text says what.
    case inconsistentInput(String)
    /// No sequence has enough items to train on.
    case noTrainingData(String)

    /// One line naming the problem (and, for a missing model, the command that trains one).
    public var description: String {
        switch self {
        case let .invalidParameter(name, value, expected): return "invalid model setting: \(name) must be \(expected) (got \(value))"
        case .invalidConfiguration(let text): return "invalid model setting: \(text)"
        case .noModel(let path):
            return "\(path) holds no trained model; run `semid train \(path) --sequences FILE` first"
        case .corruptModel(let text): return "stored model is unusable: \(text)"
        case .inconsistentInput(let text): return text
        case .noTrainingData(let text): return text
        }
    }
}

/// Every item's semantic ID, as the model sees it: `[items, L]` codes and `K_l` per level.
public struct ItemCodes: Sendable, Equatable {
    /// Number of items `n`.
    public let itemCount: Int
    /// `K_l` per ID position.
    public let codebookSizes: [Int]
    /// Row-major `[n, L]`.
    public let codes: [Int32]

    /// Wraps an ID matrix; checks every code is in range.
    public init(codes: [Int32], codebookSizes: [Int]) throws {
        let levels = codebookSizes.count
        guard levels >= 1, codes.count % levels == 0 else {
            throw ModelError.inconsistentInput("ID matrix of \(codes.count) values does not fit \(levels) levels")
        }
        for (i, c) in codes.enumerated() where c < 0 || Int(c) >= codebookSizes[i % levels] {
            throw ModelError.inconsistentInput("item \(i / levels) has code \(c) at level \(i % levels), outside 0..<\(codebookSizes[i % levels])")
        }
        self.itemCount = codes.count / levels
        self.codebookSizes = codebookSizes
        self.codes = codes
    }

    /// `L`.
    public var levels: Int { codebookSizes.count }

    /// The codes of level `l` for every item, `[n]`.
    public func column(_ l: Int) -> [Int32] {
        (0..<itemCount).map { codes[$0 * levels + l] }
    }
}
