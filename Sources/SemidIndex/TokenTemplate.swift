/// How the code at one position of a semantic ID is written as an LLM token, e.g. `<a_12>`.
///
/// A template is text with placeholders: `{code}` (the code, decimal), `{letter}` (the position
/// as a letter: `a` … `z`, then `p26`, `p27`, …, as in LC-Rec's `index.json`) and `{position}`
/// (the position, decimal from 0). `{{` and `}}` stand for literal braces. The template must hold
/// `{code}` and at least one of `{letter}` or `{position}`, so that no two (position, code) pairs
/// give the same token.
///
/// ```
/// <{letter}_{code}>        <a_12> <b_7> <c_201> <d_0>     (LC-Rec, the default)
/// <s_{letter}_{code}>      <s_a_340> <s_b_6566>           (OpenOneRec)
/// [SID{position}:{code}]   [SID0:12] [SID1:7]
/// ```
public struct TokenTemplate: Sendable, Equatable, CustomStringConvertible {
    /// LC-Rec's token form, `<a_12>`: the default everywhere semid names tokens.
    public static let lcrec = TokenTemplate(validated: [.literal("<"), .letter, .literal("_"), .code, .literal(">")],
                                            text: "<{letter}_{code}>")

    enum Piece: Sendable, Equatable {
        case literal(String)
        case code
        case letter
        case position
    }

    let pieces: [Piece]
    /// The template as written.
    public let text: String

    public var description: String { text }

    /// Parses `text`; throws ``IndexError/inconsistentInput(_:)`` for an unknown placeholder, an
    /// unmatched brace, or a template without `{code}` or without a position placeholder.
    public init(_ text: String) throws {
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(text)
        func fail(_ problem: String) -> IndexError {
            IndexError.inconsistentInput("token template \"\(text)\": \(problem)")
        }
        while let c = rest.first {
            if rest.hasPrefix("{{") || rest.hasPrefix("}}") {
                literal.append(c)
                rest = rest.dropFirst(2)
            } else if c == "{" {
                guard let close = rest.firstIndex(of: "}") else { throw fail("a \"{\" is never closed (write {{ for a literal brace)") }
                let name = rest[rest.index(after: rest.startIndex)..<close]
                let piece: Piece
                switch name {
                case "code": piece = .code
                case "letter": piece = .letter
                case "position": piece = .position
                default: throw fail("unknown placeholder {\(name)}; use {code}, {letter} or {position}")
                }
                if !literal.isEmpty { pieces.append(.literal(literal)); literal = "" }
                pieces.append(piece)
                rest = rest[rest.index(after: close)...]
            } else if c == "}" {
                throw fail("a \"}\" has no opening brace (write }} for a literal brace)")
            } else {
                literal.append(c)
                rest = rest.dropFirst()
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        guard pieces.contains(.code) else { throw fail("it needs {code}") }
        guard pieces.contains(.letter) || pieces.contains(.position) else {
            throw fail("it needs {letter} or {position}, or every position would give the same tokens")
        }
        self.init(validated: pieces, text: text)
    }

    init(validated pieces: [Piece], text: String) {
        self.pieces = pieces
        self.text = text
    }

    /// The letter of ID position `position` (≥ 0): `a` … `z`, then `p26`, `p27`, ….
    public static func letter(of position: Int) -> String {
        position < 26 ? String(UnicodeScalar(UInt8(ascii: "a") + UInt8(position))) : "p\(position)"
    }

    /// The token of `code` at ID position `position` (both ≥ 0).
    public func token(position: Int, code: Int) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let text): out += text
            case .code: out += String(code)
            case .letter: out += Self.letter(of: position)
            case .position: out += String(position)
            }
        }
        return out
    }

    /// Every token of an ID vocabulary in order: position 0's codes `0 ..< codeSizes[0]`, then
    /// position 1's, and so on (`Σ codeSizes` tokens). Adding them to a tokenizer in this order puts
    /// the token of code `c` at position `l` at `base + Σ_{j<l} codeSizes[j] + c`.
    public func vocabulary(codeSizes: [Int]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(codeSizes.reduce(0, +))
        for (position, size) in codeSizes.enumerated() {
            for code in 0..<size { out.append(token(position: position, code: code)) }
        }
        return out
    }
}
