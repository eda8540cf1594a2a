/// A quantizer could not be configured or trained with the given data and parameters.
public enum QuantizationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A parameter is outside its valid range; `name` is the configuration's property (e.g.
    /// `codebookSize`, `optimizer.learningRate`).
    case invalidParameter(name: String, value: String, expected: String)
    /// There are fewer training points than codes to learn.
    case tooFewPoints(points: Int, clusters: Int)
    /// Input vectors have the wrong dimension for this quantizer.
    case dimensionMismatch(expected: Int, found: Int)
    /// Codes refer to entries outside a codebook.
    case codeOutOfRange(row: Int, level: Int, code: Int, codebookSize: Int)
    /// A numerical routine failed.
    case numerical(String)

    /// One line naming the problem and, where there is one, the fix.
    public var description: String {
        switch self {
        case let .invalidParameter(name, value, expected):
            return "\(name) = \(value) is not valid: expected \(expected)"
        case let .tooFewPoints(points, clusters):
            return "cannot learn \(clusters) codes from \(points) vectors: need at least as many vectors as codes (lower --codebook-size)"
        case let .dimensionMismatch(expected, found):
            return "vectors have dimension \(found), but the quantizer was trained on dimension \(expected)"
        case let .codeOutOfRange(row, level, code, size):
            return "row \(row), level \(level): code \(code) is outside the codebook (size \(size))"
        case let .numerical(message):
            return message
        }
    }
}
