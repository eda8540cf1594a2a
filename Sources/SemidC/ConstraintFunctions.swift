import SemidDecoding

// Lookups and constrained decoding (semid.h, "Lookups and constrained decoding"): argument checks,
// then one call into the trie's batched queries (CodeTrie+Constraint).

/// The item of each ID.
@_cdecl("semid_index_item_of")
public func semid_index_item_of(_ index: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ rows: Int64, _ length: Int32,
                                _ outItems: UnsafeMutablePointer<Int64>?) -> Int32 {
    abiCall {
        let trie = try IndexHandle.from(index).requireTrie()
        let rows = try count(rows, "rows")
        guard Int(length) == trie.levels else {
            throw ABIError.invalid("IDs of \(length) codes given; this index's IDs have \(trie.levels)")
        }
        let total = try product(rows, trie.levels, "rows × id_length")
        guard rows > 0 else { return }
        try trie.items(forIDs: UnsafeBufferPointer(start: try required(ids, "ids"), count: total),
                       into: UnsafeMutableBufferPointer(start: try required(outItems, "out_items"), count: rows))
    }
}

/// The allowed next codes of a batch of prefixes, in CSR form.
@_cdecl("semid_index_allowed_next")
public func semid_index_allowed_next(_ index: OpaquePointer?, _ prefixes: UnsafePointer<Int32>?, _ rows: Int64,
                                     _ length: Int32, _ outIndptr: UnsafeMutablePointer<Int64>?,
                                     _ outCodes: UnsafeMutablePointer<Int32>?, _ capacity: Int64,
                                     _ outCount: UnsafeMutablePointer<Int64>?) -> Int32 {
    abiCall {
        let trie = try IndexHandle.from(index).requireTrie()
        let rows = try count(rows, "rows")
        let capacity = try count(capacity, "capacity")
        guard length >= 0, Int(length) <= trie.levels else {
            throw ABIError.invalid("prefixes of \(length) codes given; they can hold 0 to \(trie.levels) codes (the ID length)")
        }
        let total = try product(rows, Int(length), "rows × length")
        let indptr = try required(outIndptr, "out_indptr")
        let countOut = try required(outCount, "out_count")
        let codes = capacity > 0 ? try required(outCodes, "out_codes") : nil
        let source = total > 0 ? try required(prefixes, "prefixes") : nil
        let needed = try trie.allowedNextCodes(
            prefixes: UnsafeBufferPointer(start: source, count: total), length: Int(length),
            indptr: UnsafeMutableBufferPointer(start: indptr, count: rows + 1),
            codes: UnsafeMutableBufferPointer(start: codes, count: capacity))
        countOut.pointee = Int64(needed)
        if needed > capacity {
            throw ABIError(.bufferTooSmall, "out_codes holds \(capacity) codes; the answer has \(needed)")
        }
    }
}

/// The token layout from the C arguments, checked against the trie.
func tokenLayout(_ bases: UnsafePointer<Int64>?, endToken: Int64, trie: CodeTrie) throws -> TokenLayout {
    let bases = try required(bases, "position_bases")
    guard endToken >= -1 else { throw ABIError.invalid("end_token is \(endToken); give a token id, or -1 for none") }
    return TokenLayout(positionBases: (0..<trie.levels).map { Int(bases[$0]) }, endToken: endToken < 0 ? nil : Int(endToken))
}

/// The allowed next tokens of a batch of generated prefixes, in CSR form.
@_cdecl("semid_index_allowed_next_tokens")
public func semid_index_allowed_next_tokens(_ index: OpaquePointer?, _ generated: UnsafePointer<Int64>?, _ rows: Int64,
                                            _ rowStride: Int64, _ length: Int32, _ positionBases: UnsafePointer<Int64>?,
                                            _ endToken: Int64, _ outIndptr: UnsafeMutablePointer<Int64>?,
                                            _ outTokens: UnsafeMutablePointer<Int64>?, _ capacity: Int64,
                                            _ outCount: UnsafeMutablePointer<Int64>?) -> Int32 {
    abiCall {
        let trie = try IndexHandle.from(index).requireTrie()
        let rows = try count(rows, "rows")
        let capacity = try count(capacity, "capacity")
        let stride = try count(rowStride, "row_stride")
        _ = try product(rows, stride, "rows × row_stride")
        let layout = try tokenLayout(positionBases, endToken: endToken, trie: trie)
        let indptr = try required(outIndptr, "out_indptr")
        let countOut = try required(outCount, "out_count")
        let tokens = capacity > 0 ? try required(outTokens, "out_tokens") : nil
        let needed = try trie.allowedNextTokens(
            generated: rows > 0 && length > 0 ? try required(generated, "generated") : generated,
            rowStride: stride, length: Int(length), layout: layout,
            indptr: UnsafeMutableBufferPointer(start: indptr, count: rows + 1),
            tokens: UnsafeMutableBufferPointer(start: tokens, count: capacity))
        countOut.pointee = Int64(needed)
        if needed > capacity {
            throw ABIError(.bufferTooSmall, "out_tokens holds \(capacity) tokens; the answer has \(needed)")
        }
    }
}

/// Masks a batch of next-token scores (in place, or into another buffer).
@_cdecl("semid_index_mask_scores")
public func semid_index_mask_scores(_ index: OpaquePointer?, _ generated: UnsafePointer<Int64>?, _ rows: Int64,
                                    _ rowStride: Int64, _ length: Int32, _ positionBases: UnsafePointer<Int64>?,
                                    _ endToken: Int64, _ scores: UnsafePointer<Float>?,
                                    _ outScores: UnsafeMutablePointer<Float>?, _ vocabularySize: Int64,
                                    _ scoreRowStride: Int64) -> Int32 {
    abiCall {
        let trie = try IndexHandle.from(index).requireTrie()
        let rows = try count(rows, "rows")
        let stride = try count(rowStride, "row_stride")
        let vocabulary = try count(vocabularySize, "vocab_size", minimum: 1)
        let scoreStride = try count(scoreRowStride, "score_row_stride")
        _ = try product(rows, stride, "rows × row_stride")
        _ = try product(rows, scoreStride, "rows × score_row_stride")
        let layout = try tokenLayout(positionBases, endToken: endToken, trie: trie)
        try trie.maskScores(generated: rows > 0 && length > 0 ? try required(generated, "generated") : generated,
                            rows: rows, rowStride: stride, length: Int(length), layout: layout,
                            source: rows > 0 ? try required(scores, "scores") : scores,
                            destination: rows > 0 ? try required(outScores, "out_scores") : outScores,
                            vocabularySize: vocabulary, scoreRowStride: scoreStride)
    }
}
