import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// Settings of user semantic IDs (ULMRec / TTDS style), recorded in the manifest (the sizes as
/// `levels` + `codebook_size` when uniform, `levels` + `codebook_sizes` otherwise: ``CodebookSizes``).
public struct UserIDConfiguration: Codable, Equatable, Sendable {
    /// Codes at each level of the user quantizer, `K_l`.
    public var codebookSizes: [Int]
    /// Quantizer levels.
    public var levels: Int { codebookSizes.count }
    /// How colliding user codes are made unique.
    public var collisionPolicy: CollisionPolicy
    /// Seed of the user quantizer.
    public var seed: UInt64
    /// Recency weighting of the history mean: an item `h` positions before the last training item
    /// weighs `0.5^(h / halfLife)`.
    public var recencyHalfLife: Double
    /// Share of the history view when a per-user text embedding is given, in `[0, 1]`.
    public var historyWeight: Double
    /// Items held out at the end of every sequence (never used for user vectors).
    public var heldOutPerUser: Int
    /// k-means settings of the user quantizer (`clusters` is each level's size when training).
    public var kmeans: KMeans.Configuration

    /// Defaults: 3 levels × 64 codes, suffix, half-life 3 items, history weight 0.5, 2 held out.
    public init(levels: Int = 3, codebookSize: Int = 64, collisionPolicy: CollisionPolicy = .suffix, seed: UInt64 = 0,
                recencyHalfLife: Double = 3, historyWeight: Double = 0.5, heldOutPerUser: Int = 2) {
        self.init(codebookSizes: Array(repeating: codebookSize, count: Swift.max(0, levels)), collisionPolicy: collisionPolicy,
                  seed: seed, recencyHalfLife: recencyHalfLife, historyWeight: historyWeight, heldOutPerUser: heldOutPerUser)
    }

    /// One size per level; the other defaults as above.
    public init(codebookSizes: [Int], collisionPolicy: CollisionPolicy = .suffix, seed: UInt64 = 0,
                recencyHalfLife: Double = 3, historyWeight: Double = 0.5, heldOutPerUser: Int = 2) {
        self.codebookSizes = codebookSizes
        self.collisionPolicy = collisionPolicy
        self.seed = seed
        self.recencyHalfLife = recencyHalfLife
        self.historyWeight = historyWeight
        self.heldOutPerUser = heldOutPerUser
        self.kmeans = KMeans.Configuration(clusters: codebookSizes.first ?? 2)
    }

    enum CodingKeys: String, CodingKey {
        case levels, codebookSize, codebookSizes, collisionPolicy, seed, recencyHalfLife, historyWeight, heldOutPerUser, kmeans
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        codebookSizes = try CodebookSizes.decode(from: c, levels: .levels, size: .codebookSize, sizes: .codebookSizes)
        collisionPolicy = try c.decode(CollisionPolicy.self, forKey: .collisionPolicy)
        seed = try c.decode(UInt64.self, forKey: .seed)
        recencyHalfLife = try c.decode(Double.self, forKey: .recencyHalfLife)
        historyWeight = try c.decode(Double.self, forKey: .historyWeight)
        heldOutPerUser = try c.decode(Int.self, forKey: .heldOutPerUser)
        kmeans = try c.decode(KMeans.Configuration.self, forKey: .kmeans)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try CodebookSizes.encode(codebookSizes, to: &c, levels: .levels, size: .codebookSize, sizes: .codebookSizes)
        try c.encode(collisionPolicy, forKey: .collisionPolicy)
        try c.encode(seed, forKey: .seed)
        try c.encode(recencyHalfLife, forKey: .recencyHalfLife)
        try c.encode(historyWeight, forKey: .historyWeight)
        try c.encode(heldOutPerUser, forKey: .heldOutPerUser)
        try c.encode(kmeans, forKey: .kmeans)
    }

    /// Throws ``IndexError/invalidParameter(name:value:expected:)`` for out-of-range settings,
    /// naming the property.
    public func validate() throws {
        func bad(_ name: String, _ value: Any, _ expected: String) -> IndexError {
            .invalidParameter(name: name, value: "\(value)", expected: expected)
        }
        if levels < 1 || levels > IndexLimits.maximumLevels { throw bad("levels", levels, "in 1…\(IndexLimits.maximumLevels)") }
        for (l, k) in codebookSizes.enumerated() where k < 2 || k > IndexLimits.maximumCodebookSize {
            let which = CodebookSizes.isUniform(codebookSizes) ? "" : " (level \(l + 1))"
            throw bad("codebookSize", "\(k)\(which)", "in 2…\(IndexLimits.maximumCodebookSize)")
        }
        if !(recencyHalfLife > 0) { throw bad("recencyHalfLife", recencyHalfLife, "positive") }
        if !(historyWeight >= 0 && historyWeight <= 1) { throw bad("historyWeight", historyWeight, "in [0, 1]") }
        if heldOutPerUser < 0 { throw bad("heldOutPerUser", heldOutPerUser, "0 or more") }
        try collisionPolicy.validate()
        try kmeans.validate()
    }
}

/// The `users` section of the manifest (`extensions["users"]`).
public struct UserIDSection: Codable, Equatable, Sendable {
    /// The settings.
    public var configuration: UserIDConfiguration
    /// Number of users with IDs.
    public var users: Int
    /// Codes per final user ID.
    public var idLength: Int
    /// Vocabulary per user-ID position.
    public var codeSizes: [Int]
    /// Dimension of the user vectors.
    public var dimension: Int
    /// Where the item vectors came from: `"reconstruction"` (the index's own codes decoded) or the
    /// fingerprint of `--item-embeddings`.
    public var itemVectors: InputFingerprint?
    /// Whether per-user text embeddings were part of the user vectors.
    public var usesTextEmbeddings: Bool
    /// The first `semid users` (batch 0) and every later addition.
    public var batches: [Batch]
    /// What the collision policy did at the first build.
    public var collisions: CollisionResolution.Summary
}

extension UserIDSection {
    /// Checks the section's numbers against ``IndexLimits`` before anything is allocated from
    /// them; `source` names the section in errors.
    public func validate(source: String) throws {
        func bad(_ field: String, _ problem: String) -> InputError { InputError(source, field: field, problem) }
        guard (0...IndexLimits.maximumItems).contains(users) else {
            throw bad("users", "is \(users); expected 0…\(IndexLimits.maximumItems)")
        }
        let levels = configuration.levels
        guard (1...IndexLimits.maximumLevels).contains(levels) else {
            throw bad("configuration.levels", "is \(levels); expected 1…\(IndexLimits.maximumLevels)")
        }
        for (l, k) in configuration.codebookSizes.enumerated() where !(1...IndexLimits.maximumCodebookSize).contains(k) {
            let field = CodebookSizes.isUniform(configuration.codebookSizes) ? "configuration.codebook_size" : "configuration.codebook_sizes[\(l)]"
            throw bad(field, "is \(k); expected 1…\(IndexLimits.maximumCodebookSize)")
        }
        guard idLength == levels || idLength == levels + 1, codeSizes.count == idLength else {
            throw bad("code_sizes", "has \(codeSizes.count) entries for id_length \(idLength) and \(levels) levels")
        }
        for (l, size) in codeSizes.enumerated() where !(1...Swift.max(IndexLimits.maximumCodebookSize, users)).contains(size) {
            throw bad("code_sizes[\(l)]", "is \(size); expected 1…\(Swift.max(IndexLimits.maximumCodebookSize, users))")
        }
        guard (1...IndexLimits.maximumDimension).contains(dimension) else {
            throw bad("dimension", "is \(dimension); expected 1…\(IndexLimits.maximumDimension)")
        }
    }
}

/// User semantic IDs stored in an index: the frozen user quantizer, raw codes and final IDs.
public struct UserIDs: Sendable {
    /// The manifest section.
    public var section: UserIDSection
    /// The user quantizer.
    public var quantizer: ResidualQuantizer
    /// Raw codes, `[users, levels]`.
    public var rawCodes: CodeMatrix
    /// Final IDs, `[users, idLength]`; row `u` is user `u`.
    public var ids: CodeMatrix

    /// The manifest extension key.
    public static let extensionKey = "users"

    /// The user IDs of `index`, or `nil` when it has none.
    public static func load(from index: SemanticIndex) throws -> UserIDs? {
        guard let json = index.manifest.extensions?[extensionKey] else { return nil }
        let source = (index.path ?? "index") + "/manifest.json: extensions.users"
        let section = try json.decode(UserIDSection.self, source: source)
        try section.validate(source: source)
        func array(_ name: String) throws -> ShardArray {
            guard let a = index.attachments[name] else {
                throw IndexError.corrupted(path: index.path ?? "index", problem: "user IDs are listed in the manifest but array \(name) is missing")
            }
            return a
        }
        let quantizer = try StoredQuantizer.residualQuantizer(try array("users.codebooks"),
                                                             codebookSizes: section.configuration.codebookSizes,
                                                             dimension: section.dimension, source: source + ": users.codebooks")
        let l = quantizer.levels
        func codes(_ name: String, levels: Int) throws -> CodeMatrix {
            let a = try array(name)
            guard a.shape == [section.users, levels] else {
                throw IndexError.corrupted(path: source, problem: "\(name) has shape \(a.shape), expected [\(section.users), \(levels)]")
            }
            return CodeMatrix(rows: section.users, levels: levels, values: try a.int32Values(source: source))
        }
        return UserIDs(section: section, quantizer: quantizer,
                       rawCodes: try codes("users.raw_codes", levels: l), ids: try codes("users.ids", levels: section.idLength))
    }

    /// Stores these user IDs in `index` (attachments and manifest section).
    public func store(in index: inout SemanticIndex) throws {
        index.attachments["users.codebooks"] = StoredQuantizer.codebookArray(quantizer)
        index.attachments["users.raw_codes"] = ShardArray(int32: rawCodes.values, shape: [rawCodes.rows, rawCodes.levels])
        index.attachments["users.ids"] = ShardArray(int32: ids.values, shape: [ids.rows, ids.levels])
        var extensions = index.manifest.extensions ?? [:]
        extensions[Self.extensionKey] = try JSONValue(encoding: section)
        index.manifest.extensions = extensions
    }

    /// Collision and code-usage figures of the user IDs.
    public func report(groupLimit: Int = 10) -> CollisionReport {
        CollisionReport(rawCodes: rawCodes, finalIDs: ids, codebookSizes: section.configuration.codebookSizes,
                        collisionPolicy: section.configuration.collisionPolicy, method: "rq-kmeans",
                        codeSizes: section.codeSizes, batches: section.batches, groupLimit: groupLimit) { _ in [:] }
    }
}

/// Builds user IDs from histories: a recency-weighted mean of the items' vectors over the training
/// part of each history (optionally fused with a per-user text embedding, as ULMRec uses review
/// text), quantized by residual k-means with a collision policy.
public enum UserIDBuilder {
    /// One vector per sequence (`[sequences.count, d]`): the recency-weighted mean of
    /// `itemVectors` over its training items, L2-normalised, then — with `textEmbeddings` (row `r`
    /// for sequence `r`) — concatenated with the normalised text vector, weighted `√w` and `√(1−w)`.
    public static func userVectors(sequences: [UserSequence], itemVectors: Matrix, textEmbeddings: Matrix?,
                                   configuration: UserIDConfiguration) throws -> Matrix {
        var history = Matrix(rows: sequences.count, cols: itemVectors.cols)
        try history.values.withUnsafeMutableBufferPointer { out in
            for (r, sequence) in sequences.enumerated() {
                let items = sequence.trainingItems(heldOut: configuration.heldOutPerUser)
                guard !items.isEmpty else {
                    throw IndexError.inconsistentInput(
                        "user \(sequence.user) has no training items (\(sequence.items.count) item\(sequence.items.count == 1 ? "" : "s"), the last \(configuration.heldOutPerUser) held out); user IDs need at least one")
                }
                try historyMean(items, user: sequence.user, itemVectors: itemVectors,
                                halfLife: configuration.recencyHalfLife, into: out.baseAddress! + r * itemVectors.cols)
            }
        }
        guard let text = textEmbeddings else {
            ItemVectors.normalizeRows(&history)
            return history
        }
        guard text.rows == sequences.count else {
            throw IndexError.inconsistentInput("the user embeddings have \(text.rows) rows but there are \(sequences.count) users; row u must be user u")
        }
        if let bad = text.firstNonFinite() {
            throw IndexError.inconsistentInput("user embeddings row \(bad.row), column \(bad.column) is not finite")
        }
        return ItemVectors.hybrid(content: history, collaborative: text, contentWeight: configuration.historyWeight)
    }

    /// Writes the recency-weighted mean of `itemVectors` over `items` (non-empty, oldest first) to
    /// `row` (`d` floats): the last item weighs 1, one `h` positions earlier `0.5^(h / halfLife)`.
    /// Throws for an item outside the item vectors, naming `user`.
    static func historyMean<C: Collection>(_ items: C, user: Int, itemVectors: Matrix, halfLife: Double,
                                           into row: UnsafeMutablePointer<Float>) throws where C.Element: BinaryInteger {
        let d = itemVectors.cols, count = items.count
        row.update(repeating: 0, count: d)
        var total: Float = 0
        try itemVectors.values.withUnsafeBufferPointer { v in
            for (position, item) in items.enumerated() {
                guard item >= 0 && item < itemVectors.rows else {
                    throw IndexError.inconsistentInput("user \(user) mentions item \(item), outside the index's 0..<\(itemVectors.rows)")
                }
                let w = Float(ExactMath.pow(0.5, Double(count - 1 - position) / halfLife))
                total += w
                let e = v.baseAddress! + Int(item) * d
                for t in 0..<d { row[t] += w * e[t] }
            }
        }
        if total > 0 { for t in 0..<d { row[t] /= total } }
    }

    /// Creates user IDs for `sequences` (users must be exactly `0..<U`), replacing any in `index`.
    ///
    /// - Returns: the user IDs (already stored in `index`) and the catalog rows.
    public static func build(index: inout SemanticIndex, sequences: [UserSequence], itemVectors: Matrix,
                             itemVectorsFingerprint: InputFingerprint?, textEmbeddings: Matrix?, inputs: [InputFingerprint],
                             configuration: UserIDConfiguration, progress: ProgressHandler? = nil) throws -> (UserIDs, [CatalogUser]) {
        try configuration.validate()
        let ordered = sequences.sorted { $0.user < $1.user }
        for (position, sequence) in ordered.enumerated() where sequence.user != position {
            throw IndexError.inconsistentInput("user ids must be exactly 0..<\(ordered.count); user \(position) is missing")
        }
        let vectors = try userVectors(sequences: ordered, itemVectors: itemVectors, textEmbeddings: textEmbeddings,
                                      configuration: configuration)
        let rk = ResidualKMeans.Configuration(codebookSizes: configuration.codebookSizes, kmeans: configuration.kmeans)
        try rk.validate(items: vectors.rows)
        let trained = try ResidualKMeans.train(vectors, configuration: rk, seed: configuration.seed, progress: progress)
        let context = ResolutionContext { rows in
            try trained.quantizer.lastLevelDistances(vectors.gatheringRows(rows), codes: trained.codes.gatheringRows(rows))
        }
        let resolution = try configuration.collisionPolicy.resolver.resolve(
            raw: trained.codes, codebookSizes: configuration.codebookSizes, context: context)
        let variance = vectors.totalVariance
        let (reconstruction, errors) = try IndexBuilder.reconstruction(
            of: vectors, quantizer: trained.quantizer, codes: trained.codes,
            residualFractions: trained.report.levels.map { variance > 0 ? $0.residualMeanSquaredNorm / variance : 0 })
        var stored = configuration
        stored.kmeans = rk.kmeans
        let section = UserIDSection(
            configuration: stored, users: ordered.count, idLength: resolution.ids.levels, codeSizes: resolution.codeSizes,
            dimension: vectors.cols, itemVectors: itemVectorsFingerprint, usesTextEmbeddings: textEmbeddings != nil,
            batches: [Batch(batch: 0, operation: "users", firstItem: 0, items: ordered.count, inputs: inputs,
                            reconstruction: reconstruction)],
            collisions: resolution.summary)
        let users = UserIDs(section: section, quantizer: trained.quantizer, rawCodes: trained.codes, ids: resolution.ids)
        try users.store(in: &index)
        index.attachments[ReconstructionErrors.userArray] = ShardArray(float32: errors, shape: [ordered.count])
        let rows = ordered.enumerated().map { r, s in
            CatalogUser(id: s.user, semanticID: Array(resolution.ids.row(r)),
                        historyLength: s.trainingItems(heldOut: configuration.heldOutPerUser).count, batch: 0)
        }
        return (users, rows)
    }

    /// Gives IDs to new users (ids exactly `U ..< U+m` after the existing `U`), encoding them with the
    /// frozen user quantizer; no existing user ID changes.
    public static func add(index: inout SemanticIndex, sequences: [UserSequence], itemVectors: Matrix,
                           textEmbeddings: Matrix?, inputs: [InputFingerprint]) throws -> (UserIDs, [CatalogUser]) {
        guard var users = try UserIDs.load(from: index) else {
            throw IndexError.inconsistentInput("the index has no user IDs yet; run semid users without --add first")
        }
        let existing = users.section.users
        let ordered = sequences.sorted { $0.user < $1.user }
        guard !ordered.isEmpty else { throw IndexError.inconsistentInput("no users to add") }
        for (offset, sequence) in ordered.enumerated() where sequence.user != existing + offset {
            if sequence.user < existing {
                throw IndexError.inconsistentInput("user \(sequence.user) already has an ID (the index has users 0…\(existing - 1)); new users must be numbered \(existing)…")
            }
            throw IndexError.inconsistentInput("new user ids must be exactly \(existing)…\(existing + ordered.count - 1); user \(existing + offset) is missing")
        }
        if users.section.usesTextEmbeddings != (textEmbeddings != nil) {
            throw IndexError.inconsistentInput(users.section.usesTextEmbeddings
                ? "these user IDs were built with --user-embeddings; give them for the new users too"
                : "these user IDs were built without --user-embeddings; do not give them now")
        }
        let vectors = try userVectors(sequences: ordered, itemVectors: itemVectors, textEmbeddings: textEmbeddings,
                                      configuration: users.section.configuration)
        guard vectors.cols == users.section.dimension else {
            throw IndexError.inconsistentInput("the new user vectors have dimension \(vectors.cols); the user IDs were built on \(users.section.dimension)")
        }
        let raw = try users.quantizer.encode(vectors)
        let context = ResolutionContext { rows in
            try users.quantizer.lastLevelDistances(vectors.gatheringRows(rows), codes: raw.gatheringRows(rows))
        }
        let (newIDs, sizes) = try users.section.configuration.collisionPolicy.resolver.extend(
            existingRaw: users.rawCodes, existingIDs: users.ids, codeSizes: users.section.codeSizes, newRaw: raw, context: context)
        let batch = (users.section.batches.map(\.batch).max() ?? 0) + 1
        let (reconstruction, errors) = try IndexBuilder.reconstruction(of: vectors, quantizer: users.quantizer, codes: raw,
                                                                       residualFractions: [])
        if let stored = try ReconstructionErrors.stored(in: index, array: ReconstructionErrors.userArray, rows: existing) {
            index.attachments[ReconstructionErrors.userArray] = ShardArray(float32: stored + errors, shape: [existing + ordered.count])
        }
        users.rawCodes = users.rawCodes.appendingRows(raw)
        users.ids = users.ids.appendingRows(newIDs)
        users.section.users += ordered.count
        users.section.codeSizes = sizes
        users.section.batches.append(Batch(batch: batch, operation: "add-users", firstItem: existing, items: ordered.count,
                                           inputs: inputs, reconstruction: reconstruction))
        try users.store(in: &index)
        let rows = ordered.enumerated().map { r, s in
            CatalogUser(id: s.user, semanticID: Array(newIDs.row(r)),
                        historyLength: s.trainingItems(heldOut: users.section.configuration.heldOutPerUser).count, batch: batch)
        }
        return (users, rows)
    }
}
