/// What ``Pipeline/inspect(_:groups:)`` found in an index.
public struct Inspection: Sendable {
    /// The index as opened (every shard and the catalog verified).
    public var index: SemanticIndex
    /// Collisions, per-level code usage and reconstruction error of the items' IDs.
    public var report: CollisionReport
    /// The users' IDs, when the index has them.
    public var users: UserIDs?
    /// The stored model's summary: `nil` without a model, a failure when its section is unreadable.
    public var model: Result<ModelSummary, Error>?
}

extension Pipeline {
    /// Opens an index and measures its IDs: `O(items · id length)` plus one read of every shard.
    ///
    /// - Parameter groups: how many of the largest colliding groups the report lists.
    public static func inspect(_ path: String, groups: Int = 10) throws -> Inspection {
        // Opening verifies every shard and the catalog (checksum and one row per item).
        let opened = try IndexStore.open(at: path)
        let report = try opened.report(groupLimit: groups)
        let users = try UserIDs.load(from: opened)
        let model: Result<ModelSummary, Error>? = StoredModel.hasModel(opened) ? Result { try StoredModel.summary(of: opened) } : nil
        return Inspection(index: opened, report: report, users: users, model: model)
    }
}
