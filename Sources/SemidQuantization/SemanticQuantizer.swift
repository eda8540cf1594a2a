import SemidMath

/// A trained quantizer that maps vectors to `levels` discrete codes (a raw semantic ID).
///
/// Both methods semid ships, residual k-means (``ResidualQuantizer``) and RQ-VAE, conform; the
/// collision policies and the index only talk to this protocol.
public protocol SemanticQuantizer: Sendable {
    /// The dimension `d` of the vectors it encodes.
    var inputDimension: Int { get }
    /// The number of code levels `L`.
    var levels: Int { get }
    /// The number of codes at each level, `K_l` for `l = 0..<levels` (levels may differ, e.g.
    /// 1024, 256, 256).
    var codebookSizes: [Int] { get }

    /// Greedy codes for every row of `x` (`[n, d]` → `[n, L]`).
    func encode(_ x: Matrix) throws -> CodeMatrix

    /// The reconstruction of each row from its codes (`[n, L]` → `[n, d]`).
    func reconstruct(_ codes: CodeMatrix) throws -> Matrix

    /// For each row of `x` with raw `codes`, the squared distance from the residual that enters the
    /// last level to every last-level code (`[n, K_{L-1}]`). Collision policies use it to pick another
    /// last-level code that changes the reconstruction as little as possible.
    func lastLevelDistances(_ x: Matrix, codes: CodeMatrix) throws -> Matrix
}
