import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// The indexing baselines of "How to Index Item IDs for Recommendation Foundation Models" (Hua et
/// al. 2023), built into the same index format so the same model and decoder run on them.
public enum AssignedIDs {
    /// Random IDs: every item gets one code per level, drawn uniformly from `0..<codebookSizes[l]`,
    /// redrawn until unique. Needs `Π K_l ≥ items`. Returns `[items, L]`.
    public static func random(items: Int, codebookSizes: [Int], seed: UInt64) throws -> CodeMatrix {
        let levels = codebookSizes.count
        let capacity = codebookSizes.reduce(1.0) { $0 * Double($1) }
        guard capacity >= Double(items) else {
            throw IndexError.inconsistentInput("random IDs of \(CodebookSizes.shape(codebookSizes)) codes can name only \(Int(capacity)) items, fewer than \(items)")
        }
        var generator = SeededGenerator(seed: seed).derived(0x4A4D)
        var ids = CodeMatrix(rows: items, levels: levels)
        var used = Set<[Int32]>(minimumCapacity: items)
        for i in 0..<items {
            var code: [Int32]
            repeat {
                code = codebookSizes.map { Int32(generator.nextInt(below: $0)) }
            } while !used.insert(code).inserted
            for l in 0..<levels { ids[i, l] = code[l] }
        }
        return ids
    }

    /// Sequential IDs: items numbered in order of first appearance in the training part of the
    /// sequences (users in file order), then items never seen there by id; number `r` is written
    /// in base `b = ⌈items^(1/levels)⌉` with `levels` digits, most significant first.
    ///
    /// - Returns: the IDs and the base `b` (every level's vocabulary size).
    public static func sequential(items: Int, levels: Int, sequences: [UserSequence], heldOut: Int) throws
        -> (ids: CodeMatrix, base: Int)
    {
        var base = max(2, Int(Foundation.pow(Double(items), 1 / Double(levels)).rounded(.up)))
        while Foundation.pow(Double(base - 1), Double(levels)) >= Double(items) && base > 2 { base -= 1 }
        while Foundation.pow(Double(base), Double(levels)) < Double(items) { base += 1 }
        var rank = [Int](repeating: -1, count: items)
        var next = 0
        for sequence in sequences {
            for item in sequence.trainingItems(heldOut: heldOut) {
                guard item >= 0 && item < items else {
                    throw IndexError.inconsistentInput("sequence of user \(sequence.user) mentions item \(item), outside 0..<\(items)")
                }
                if rank[item] < 0 { rank[item] = next; next += 1 }
            }
        }
        for item in 0..<items where rank[item] < 0 { rank[item] = next; next += 1 }
        var ids = CodeMatrix(rows: items, levels: levels)
        for item in 0..<items {
            var r = rank[item]
            for l in stride(from: levels - 1, through: 0, by: -1) {
                ids[item, l] = Int32(r % base)
                r /= base
            }
        }
        return (ids, base)
    }
}

/// The "quantizer" of an index whose IDs were assigned (random or sequential) rather than computed
/// from vectors: it knows the ID shape but cannot encode.
public struct AssignedCodes: SemanticQuantizer {
    /// `"random"` or `"sequential"`.
    public var method: String
    /// Codes at each level, `K_l` (the ID length is its count).
    public var codebookSizes: [Int]
    /// ID length.
    public var levels: Int { codebookSizes.count }
    /// No input vectors: 0.
    public var inputDimension: Int { 0 }

    /// Creates the placeholder for an assigned-ID index.
    public init(method: String, codebookSizes: [Int]) {
        self.method = method
        self.codebookSizes = codebookSizes
    }

    private var refusal: QuantizationError {
        .invalidParameter(name: "method", value: method,
                          expected: "a quantizer that computes IDs from vectors (\(method) IDs are assigned, so new items cannot be encoded)")
    }

    /// Throws: assigned IDs cannot be computed from vectors.
    public func encode(_ x: Matrix) throws -> CodeMatrix { throw refusal }
    /// Throws: assigned IDs have no reconstruction.
    public func reconstruct(_ codes: CodeMatrix) throws -> Matrix { throw refusal }
    /// Throws: assigned IDs have no residuals.
    public func lastLevelDistances(_ x: Matrix, codes: CodeMatrix) throws -> Matrix { throw refusal }
}
