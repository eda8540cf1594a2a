import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// Per-item squared reconstruction errors `‖x_i − x̂_i‖²`: the distribution behind the manifest's
/// mean (`batches[].reconstruction.mean_squared_error`), so a report can show which items the
/// codes represent badly.
///
/// `semid build` and `semid add` store them as the optional f32 array `reconstruction_errors`
/// `[items]` (`semid users`: `users.reconstruction_errors` `[users]`), in the space the quantizer
/// saw (the quantized vectors, decoded through the RQ-VAE decoder for RQ-VAE). Indexes written
/// before the array existed, and indexes of assigned IDs (`random`, `sequential`), have none; for
/// those ``compute(for:embeddings:)`` recomputes them from the build's embeddings.
public enum ReconstructionErrors {
    /// The array of the items' errors.
    public static let itemArray = "reconstruction_errors"
    /// The array of the users' errors.
    public static let userArray = "users.reconstruction_errors"

    /// `‖data_i − reconstruction_i‖²` for every row (`[n]`); both matrices `[n, d]`. O(n·d).
    public static func squaredErrors(of data: Matrix, reconstruction: Matrix) -> [Float] {
        precondition(data.rows == reconstruction.rows && data.cols == reconstruction.cols, "shapes differ")
        let n = data.rows, d = data.cols
        guard n > 0, d > 0 else { return [Float](repeating: 0, count: n) }
        return data.values.withUnsafeBufferPointer { x in
            reconstruction.values.withUnsafeBufferPointer { r in
                (0..<n).map { Distances.squaredDistance(x.baseAddress! + $0 * d, r.baseAddress! + $0 * d, count: d) }
            }
        }
    }

    /// The errors stored in `index` under `array` (``itemArray`` or ``userArray``), checked to be
    /// `rows` finite non-negative f32 values; `nil` when the index has no such array.
    public static func stored(in index: SemanticIndex, array: String = itemArray, rows: Int? = nil) throws -> [Float]? {
        guard let stored = index.attachments[array] else { return nil }
        let source = (index.path ?? "index") + "/" + array
        let expected = rows ?? index.itemCount
        guard stored.shape == [expected] else {
            throw IndexError.corrupted(path: source, problem: "has shape \(stored.shape), expected [\(expected)]")
        }
        let values = try stored.float32Values(source: source)
        if let bad = values.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw IndexError.corrupted(path: source, problem: "row \(bad) is \(values[bad]), expected a finite value ≥ 0")
        }
        return values
    }

    /// Recomputes the items' errors of `index` from `embeddings` (`[items, d]`, the content
    /// embeddings it was built from): decodes the stored raw codes and measures each row.
    ///
    /// Throws when the index's IDs are assigned, its quantizer saw collaborative or hybrid vectors
    /// (which are not the embeddings), or the shape does not match.
    public static func compute(for index: SemanticIndex, embeddings: Matrix) throws -> [Float] {
        let p = index.manifest.parameters
        let name = index.path ?? "the index"
        if QuantizationMethod(rawValue: p.method)?.isAssigned ?? false {
            throw IndexError.inconsistentInput("\(name) has \(p.method) IDs, which are assigned, not quantized: there is no reconstruction error")
        }
        if let source = p.source, source != .content {
            throw IndexError.inconsistentInput("\(name) quantized \(source.rawValue) vectors, not the embeddings; its errors cannot be recomputed from them")
        }
        guard embeddings.rows == index.itemCount, embeddings.cols == p.dimension else {
            throw IndexError.inconsistentInput("the embeddings are [\(embeddings.rows), \(embeddings.cols)] but \(name) has \(index.itemCount) items of dimension \(p.dimension)")
        }
        return squaredErrors(of: embeddings, reconstruction: try index.quantizer.reconstruct(index.rawCodes))
    }
}
