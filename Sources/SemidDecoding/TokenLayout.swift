/// Where the codes of a semantic ID sit in an LLM's vocabulary.
///
/// Each ID position `l` owns a contiguous block of `K_l` tokens: code `c` at position `l` is token
/// `positionBases[l] + c`. Tokens added in ``SemidIndex/TokenTemplate/vocabulary(codeSizes:)``
/// order from token `base` give `positionBases[l] = base + Σ_{j<l} K_j`
/// (``init(base:codeSizes:endToken:)``). After the last position an ID is complete; `endToken`
/// (the tokenizer's EOS), when given, is then the only allowed token.
public struct TokenLayout: Sendable, Equatable {
    /// The token of code 0 at each ID position (`L` values, each ≥ 0).
    public var positionBases: [Int]
    /// The token allowed once the ID is complete, if any.
    public var endToken: Int?

    /// A layout with one base per position.
    public init(positionBases: [Int], endToken: Int? = nil) {
        self.positionBases = positionBases
        self.endToken = endToken
    }

    /// The layout of an ID vocabulary added in order from token `base`: position `l` starts at
    /// `base + Σ_{j<l} codeSizes[j]`.
    public init(base: Int, codeSizes: [Int], endToken: Int? = nil) {
        var bases: [Int] = []
        var next = base
        for size in codeSizes {
            bases.append(next)
            next += size
        }
        self.init(positionBases: bases, endToken: endToken)
    }

    /// Checks the layout against a trie's code sizes and, when given, the vocabulary size `V`:
    /// one base per position, every block `positionBases[l] ..< positionBases[l] + K_l` and the end
    /// token inside `0 ..< V`, and the end token in no block.
    ///
    /// Throws ``DecodingError/invalidShape(_:)`` naming the first problem.
    public func validate(codeSizes: [Int], vocabularySize: Int?) throws {
        guard positionBases.count == codeSizes.count else {
            throw DecodingError.invalidShape("the token layout has \(positionBases.count) position bases for IDs of \(codeSizes.count) positions")
        }
        let limit = vocabularySize ?? Int(Int64.max)
        for (l, base) in positionBases.enumerated() {
            guard base >= 0, base <= limit - codeSizes[l] else {
                let range = "\(base) ..< \(base) + \(codeSizes[l])"
                throw DecodingError.invalidShape(vocabularySize == nil
                    ? "position \(l)'s tokens \(range) must be non-negative"
                    : "position \(l)'s tokens \(range) do not fit a vocabulary of \(limit) tokens")
            }
        }
        if let endToken {
            guard endToken >= 0, endToken < limit else {
                throw DecodingError.invalidShape("end token \(endToken) is outside the vocabulary 0 ..< \(limit)")
            }
            for (l, base) in positionBases.enumerated() where endToken >= base && endToken < base + codeSizes[l] {
                throw DecodingError.invalidShape("end token \(endToken) is also the token of code \(endToken - base) at position \(l)")
            }
        }
    }
}
