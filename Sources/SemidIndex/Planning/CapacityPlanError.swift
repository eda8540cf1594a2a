/// Why a capacity plan could not be made. Descriptions name the `semid plan` flag a value came
/// from, so the CLI prints them as they are.
public enum CapacityPlanError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A `--shapes` entry that is not `LxK` or `K1/K2/…`, or whose sizes are out of range.
    case invalidShape(String, expected: String)
    /// A shape with a codebook larger than the sample it would be trained on.
    case codebookLargerThanSample(shape: String, codebookSize: Int, sample: Int)
    /// A numeric setting out of range (`name` is the flag).
    case invalidParameter(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case let .invalidShape(text, expected):
            return "--shapes: '\(text)' is not a valid shape; expected \(expected)"
        case let .codebookLargerThanSample(shape, size, sample):
            return "--shapes: shape \(shape) has a codebook of \(size) codes but --sample has only \(sample) rows; use a sample of at least \(size) rows or a smaller codebook"
        case let .invalidParameter(name, value, expected):
            return "\(name): '\(value)' is not valid; expected \(expected)"
        }
    }
}
