import Foundation
import SemidMath
import SemidQuantization

/// Encodes a user's raw ID codes from any stretch of their history with an index's frozen user
/// quantizer, exactly as `semid users` made the stored IDs (same recency-weighted history mean,
/// same text fusion, same greedy residual encoding).
///
/// Training uses it to show the model a user ID made only from items *before* the positions it
/// trains on (``UserIDs`` are made from a user's whole training history, so reading them while
/// predicting items of that history would leak the targets). Encoding never changes a stored ID.
public struct UserIDEncoder: Sendable {
    /// The frozen user quantizer.
    public let quantizer: ResidualQuantizer
    /// The user-ID settings (recency half-life, history weight).
    public let configuration: UserIDConfiguration
    /// Item vectors `[items, d]` (row `i` = item `i`), the ones the user IDs were built from.
    public let itemVectors: Matrix
    /// Per-user text embeddings `[users, e]` (row `u` = user `u`), when the IDs used them.
    public let textEmbeddings: Matrix?

    /// An encoder for `users`' quantizer.
    ///
    /// - Parameters:
    ///   - itemVectors: the item vectors the user IDs were built from (`--item-embeddings` of
    ///     `semid users`, or the index's decoded item codes).
    ///   - textEmbeddings: the per-user text embeddings, required exactly when the IDs used them.
    /// - Throws: ``IndexError/inconsistentInput(_:)`` when the inputs do not match the IDs.
    public init(users: UserIDs, itemVectors: Matrix, textEmbeddings: Matrix?) throws {
        let section = users.section
        if section.usesTextEmbeddings != (textEmbeddings != nil) {
            throw IndexError.inconsistentInput(section.usesTextEmbeddings
                ? "the user IDs were built with per-user text embeddings (--user-embeddings); give the same file"
                : "the user IDs were built without per-user text embeddings; do not give --user-embeddings")
        }
        try self.init(quantizer: users.quantizer, configuration: section.configuration, itemVectors: itemVectors,
                      textEmbeddings: textEmbeddings)
    }

    /// An encoder from its parts: user vectors (item-history mean, fused with `textEmbeddings`
    /// when given) must have the quantizer's dimension.
    public init(quantizer: ResidualQuantizer, configuration: UserIDConfiguration, itemVectors: Matrix,
                textEmbeddings: Matrix?) throws {
        let dimension = itemVectors.cols + (textEmbeddings?.cols ?? 0)
        guard dimension == quantizer.inputDimension else {
            throw IndexError.inconsistentInput(
                "item vectors of dimension \(itemVectors.cols)\(textEmbeddings.map { " and user embeddings of dimension \($0.cols)" } ?? "") give user vectors of dimension \(dimension); the user IDs were built on \(quantizer.inputDimension)")
        }
        if let text = textEmbeddings, let bad = text.firstNonFinite() {
            throw IndexError.inconsistentInput("user embeddings row \(bad.row), column \(bad.column) is not finite")
        }
        self.quantizer = quantizer
        self.configuration = configuration
        self.itemVectors = itemVectors
        self.textEmbeddings = textEmbeddings
    }

    /// The quantizer's levels: the length of the codes ``encode(_:)`` returns.
    public var levels: Int { quantizer.levels }

    /// Raw user-ID codes `[histories.count, levels]`: row `r` encodes user `histories[r].user`
    /// from `histories[r].items` (oldest first, non-empty).
    ///
    /// - Throws: ``IndexError/inconsistentInput(_:)`` for an empty history, an item outside the
    ///   item vectors, or a user without a text embedding.
    public func encode<C: Collection>(_ histories: [(user: Int, items: C)]) throws -> CodeMatrix where C.Element: BinaryInteger {
        var history = Matrix(rows: histories.count, cols: itemVectors.cols)
        try history.values.withUnsafeMutableBufferPointer { out in
            for (r, h) in histories.enumerated() {
                guard !h.items.isEmpty else {
                    throw IndexError.inconsistentInput("user \(h.user): a user ID needs at least one history item")
                }
                try UserIDBuilder.historyMean(h.items, user: h.user, itemVectors: itemVectors,
                                              halfLife: configuration.recencyHalfLife, into: out.baseAddress! + r * itemVectors.cols)
            }
        }
        guard let text = textEmbeddings else {
            ItemVectors.normalizeRows(&history)
            return try quantizer.encode(history)
        }
        if let missing = histories.first(where: { $0.user < 0 || $0.user >= text.rows }) {
            throw IndexError.inconsistentInput("user \(missing.user) has no row in the user embeddings (\(text.rows) rows)")
        }
        let fused = ItemVectors.hybrid(content: history, collaborative: text.gatheringRows(histories.map(\.user)),
                                       contentWeight: configuration.historyWeight)
        return try quantizer.encode(fused)
    }
}
