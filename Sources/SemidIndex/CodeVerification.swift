import SemidMath
import SemidQuantization
import SemidStorage

/// Whether an index's stored codes are what its frozen quantizer gives for the items' vectors
/// today, on this machine: the check that an index built elsewhere (another CPU, another BLAS
/// kernel, another thread count) is reproduced exactly here.
///
/// Encoding is exact (see `Distances`), so an index built from the same vectors re-encodes to its
/// stored raw codes on every machine; a mismatch means the vectors are not the ones it was built
/// from (or the index was modified). The final IDs are checked against the raw codes as the
/// collision policy defines them: equal under `none`, equal on the first `L` positions under
/// `suffix`, equal on the first `L − 1` positions under `sinkhorn` (it re-assigns the last level).
public struct CodeVerification: Codable, Equatable, Sendable {
    /// One item whose re-encoded raw codes differ from the stored ones.
    public struct Mismatch: Codable, Equatable, Sendable {
        /// The item id.
        public var item: Int
        /// Its stored raw codes.
        public var stored: [Int32]
        /// What the quantizer gives now.
        public var encoded: [Int32]
    }

    /// Items re-encoded (all items of the index).
    public var items: Int
    /// Items whose re-encoded raw codes equal the stored ones.
    public var reproduced: Int
    /// The first ``mismatchLimit`` mismatching items, in item order.
    public var mismatches: [Mismatch]
    /// Items whose final ID does not follow from its stored raw codes under the index's policy.
    public var inconsistentFinalIDs: Int

    /// How many mismatching items are listed.
    public static let mismatchLimit = 10

    /// Whether every item re-encoded to its stored raw codes and every final ID follows from them.
    public var passed: Bool { reproduced == items && inconsistentFinalIDs == 0 }

    /// Re-encodes `vectors` (`[items, d]`, row `i` = item `i`: the vectors the index quantizes)
    /// with `index`'s quantizer and compares with its stored codes.
    ///
    /// - Throws: ``IndexError/inconsistentInput(_:)`` when the row count or dimension does not
    ///   match the index, or its IDs are assigned (random, sequential) rather than quantized.
    /// - Complexity: one encoding pass over the vectors.
    public init(index: SemanticIndex, vectors: Matrix, progress: ProgressHandler? = nil) throws {
        let manifest = index.manifest
        if let method = QuantizationMethod(rawValue: manifest.parameters.method), method.isAssigned {
            throw IndexError.inconsistentInput(
                "this index has \(method.rawValue) IDs, which are assigned rather than computed from vectors; there is nothing to re-encode")
        }
        guard vectors.rows == index.itemCount else {
            throw IndexError.inconsistentInput(
                "the vectors have \(vectors.rows) rows but the index has \(index.itemCount) items; give the vectors of every item, in item order (the parts of later adds after the build's)")
        }
        guard vectors.cols == index.quantizer.inputDimension else {
            throw IndexError.inconsistentInput(
                "the vectors have dimension \(vectors.cols) but the index quantizes \(index.quantizer.inputDimension)-dimensional vectors")
        }
        progress?(ProgressEvent(stage: "re-encoding \(vectors.rows) items"))
        let encoded = try index.quantizer.encode(vectors)
        let raw = index.rawCodes, ids = index.ids
        var reproduced = 0
        var mismatches: [Mismatch] = []
        for i in 0..<raw.rows {
            let stored = Array(raw.row(i)), now = Array(encoded.row(i))
            if stored == now {
                reproduced += 1
            } else if mismatches.count < Self.mismatchLimit {
                mismatches.append(Mismatch(item: i, stored: stored, encoded: now))
            }
        }
        let checked: Int
        switch manifest.parameters.collisionPolicy {
        case .none: checked = raw.levels
        case .suffix: checked = raw.levels
        case .sinkhorn: checked = raw.levels - 1
        }
        var inconsistent = 0
        for i in 0..<raw.rows {
            for l in 0..<min(checked, ids.levels) where raw[i, l] != ids[i, l] {
                inconsistent += 1
                break
            }
        }
        self.items = raw.rows
        self.reproduced = reproduced
        self.mismatches = mismatches
        self.inconsistentFinalIDs = inconsistent
    }
}
