/// What ``Pipeline/assignUserIDs(_:)`` gives IDs to.
public struct UserIDRequest: Sendable {
    /// Whether the index may already have user IDs, and what happens to them.
    public enum Mode: Sendable {
        /// The index must not have user IDs yet.
        case create
        /// Existing user IDs are replaced by a new user quantizer's.
        case replace
        /// Only users without an ID get one, from the frozen user quantizer; no ID changes.
        case add
    }

    /// The index directory.
    public var index: String
    /// The users' histories (users `0..<U`; items of the index).
    public var sequences: PipelineInput<[UserSequence]>
    /// Item vectors `[n, d]` (row `i` = item `i`), or `nil` for the index's decoded item codes.
    public var itemEmbeddings: PipelineInput<Matrix>?
    /// Per-user text embeddings `[U, e]` (row `u` = user `u`) fused with the history vectors.
    public var userEmbeddings: PipelineInput<Matrix>?
    /// The user quantizer and how user vectors are made (ignored by ``Mode/add``, which uses
    /// the stored one).
    public var configuration: UserIDConfiguration
    /// Create, replace or add.
    public var mode: Mode = .create
    /// What to do when another process is writing the index.
    public var waiting: DirectoryLock.Waiting = .wait
    /// Called with progress events.
    public var progress: ProgressHandler?

    /// A request to give the users of `sequences` IDs in `index`.
    public init(index: String, sequences: PipelineInput<[UserSequence]>, configuration: UserIDConfiguration = UserIDConfiguration()) {
        self.index = index
        self.sequences = sequences
        self.configuration = configuration
    }
}

/// What ``Pipeline/assignUserIDs(_:)`` did.
public struct UserIDResult: Sendable {
    /// The index's user IDs afterwards (`nil` only when there were none and nobody to add).
    public var users: UserIDs?
    /// How many users got an ID in this call (0: nothing to add, nothing written).
    public var assigned: Int
    /// Whether the index's model reads user tokens of the IDs that were just replaced (it must be
    /// retrained before recommending with it).
    public var modelNeedsRetraining: Bool
}

extension Pipeline {
    /// Gives users semantic IDs of their own, stored in the index's shards and its catalog's users
    /// table. A user's vector is the recency-weighted mean of their training items' vectors,
    /// optionally fused with a text embedding; the vectors are quantized by residual k-means with a
    /// collision policy. The index's writer lock is held from reading the index to writing it back.
    ///
    /// Costs one pass over the histories (`O(Σ history · d)`) and one residual k-means of `U` vectors.
    public static func assignUserIDs(_ request: UserIDRequest) throws -> UserIDResult {
        let path = request.index
        let target = FileSystem.resolvedWriteTarget(path)
        let lock = FileSystem.isDirectory(target) ? try DirectoryLock.acquire(target, waiting: request.waiting) : nil
        defer { lock?.release() }
        var opened = try IndexStore.open(at: path)
        let existing = try UserIDs.load(from: opened)
        if existing != nil && request.mode == .create { throw PipelineError.userIDsExist(index: path) }
        let histories: [UserSequence]
        var inputs: [InputFingerprint] = []
        switch request.sequences {
        case .file(let file):
            histories = try SequenceFile.read(at: file, itemCount: opened.itemCount)
            inputs.append(try InputFingerprint(role: "sequences", path: file, rows: histories.count, columns: nil))
        case let .memory(value, fingerprint):
            histories = value
            if let fingerprint { inputs.append(fingerprint) }
        }
        let (itemVectors, itemFingerprint) = try loadItemVectors(request.itemEmbeddings, index: opened, path: path)
        if let itemFingerprint { inputs.append(itemFingerprint) }

        let add = request.mode == .add
        let selected = add ? histories.filter { $0.user >= (existing?.section.users ?? 0) } : histories
        var text: Matrix?
        if let userEmbeddings = request.userEmbeddings {
            let all: Matrix
            switch userEmbeddings {
            case .file(let file):
                all = try NpyFile.readMatrix(at: file)
                guard all.rows == histories.count else {
                    throw PipelineError.userEmbeddingRows(file: file, rows: all.rows, sequences: request.sequences.path ?? "the sequences",
                                                          users: histories.count)
                }
                inputs.append(try InputFingerprint(role: "user-embeddings", path: file, rows: all.rows, columns: all.cols))
            case let .memory(value, fingerprint):
                all = value
                guard all.rows == histories.count else {
                    throw PipelineError.userEmbeddingRows(file: "userEmbeddings", rows: all.rows,
                                                          sequences: request.sequences.path ?? "the sequences", users: histories.count)
                }
                if let fingerprint { inputs.append(fingerprint) }
            }
            let positions = Dictionary(uniqueKeysWithValues: histories.enumerated().map { ($1.user, $0) })
            text = all.gatheringRows(selected.sorted { $0.user < $1.user }.map { positions[$0.user] ?? 0 })
        }

        let users: UserIDs
        let rows: [CatalogUser]
        if add {
            if selected.isEmpty {
                return UserIDResult(users: existing, assigned: 0, modelNeedsRetraining: false)
            }
            (users, rows) = try UserIDBuilder.add(index: &opened, sequences: selected, itemVectors: itemVectors,
                                                  textEmbeddings: text, inputs: inputs)
        } else {
            (users, rows) = try UserIDBuilder.build(index: &opened, sequences: histories, itemVectors: itemVectors,
                                                    itemVectorsFingerprint: itemFingerprint, textEmbeddings: text,
                                                    inputs: inputs, configuration: request.configuration,
                                                    progress: request.progress)
        }
        let idLength = users.ids.levels
        let replace = !add
        try IndexStore.write(opened, catalog: .edited(path: path + "/" + IndexStore.catalogFile) { catalog in
            if replace { try catalog.createUsersTable(idLength: idLength, replace: true) }
            try catalog.insertUsers(rows)
        }, to: path, overwrite: true, waiting: request.waiting)
        var stale = false
        if replace, existing != nil, let model = try? StoredModel.summary(of: opened), model.configuration.userTokens {
            stale = true
        }
        return UserIDResult(users: users, assigned: rows.count, modelNeedsRetraining: stale)
    }

    /// The item vectors for user vectors: `given`, or the index's decoded codes.
    static func loadItemVectors(_ given: PipelineInput<Matrix>?, index opened: SemanticIndex,
                                path: String) throws -> (Matrix, InputFingerprint?) {
        switch given {
        case .file(let file):
            let m = try NpyFile.readMatrix(at: file)
            guard m.rows == opened.itemCount else {
                throw PipelineError.itemVectorRows(file: file, rows: m.rows, items: opened.itemCount)
            }
            return (m, try InputFingerprint(role: "item-embeddings", path: file, rows: m.rows, columns: m.cols))
        case let .memory(m, fingerprint):
            guard m.rows == opened.itemCount else {
                throw PipelineError.itemVectorRows(file: "itemEmbeddings", rows: m.rows, items: opened.itemCount)
            }
            return (m, fingerprint)
        case nil:
            do {
                return (try opened.quantizer.reconstruct(opened.rawCodes), nil)
            } catch {
                throw PipelineError.itemVectorsNeeded(index: path, method: opened.manifest.parameters.method)
            }
        }
    }
}
