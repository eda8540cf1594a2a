import SemidIndex
import SemidMath

/// Raw codes of new vectors with the index's frozen quantizer.
@_cdecl("semid_index_encode")
public func semid_index_encode(_ index: OpaquePointer?, _ embeddings: UnsafePointer<Float>?, _ rows: Int64,
                               _ dimension: Int64, _ outCodes: UnsafeMutablePointer<Int32>?) -> Int32 {
    abiCall {
        let handle = try IndexHandle.from(index)
        let parameters = handle.index.manifest.parameters
        if QuantizationMethod(rawValue: parameters.method)?.isAssigned == true {
            throw ABIError(.unsupported, "this index has \(parameters.method) IDs, which are assigned, not computed from vectors: there is nothing to encode with")
        }
        if let source = parameters.source, source != .content {
            throw ABIError(.unsupported, "this index quantizes \(source.rawValue) vectors, which semid derives from user sequences; encode takes content embeddings and needs an index built with source content")
        }
        let quantizer = handle.index.quantizer
        let rows = try count(rows, "rows")
        guard dimension == Int64(quantizer.inputDimension) else {
            throw ABIError.invalid("embeddings have dimension \(dimension); this index encodes vectors of dimension \(quantizer.inputDimension)")
        }
        let total = try product(rows, quantizer.inputDimension, "rows × dimension")
        guard rows > 0 else { return }
        let matrix = Matrix(rows: rows, cols: quantizer.inputDimension,
                            values: Array(UnsafeBufferPointer(start: try required(embeddings, "embeddings"), count: total)))
        let out = try required(outCodes, "out_codes")
        if let bad = matrix.firstNonFinite() {
            throw ABIError.invalid("embeddings row \(bad.row), column \(bad.column) is not finite")
        }
        let codes = try quantizer.encode(matrix)
        guard codes.rows == rows, codes.levels == handle.index.rawCodes.levels else {
            throw ABIError(.internalError, "the quantizer returned codes of shape [\(codes.rows), \(codes.levels)] for \(rows) rows")
        }
        codes.values.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: codes.values.count) }
    }
}
