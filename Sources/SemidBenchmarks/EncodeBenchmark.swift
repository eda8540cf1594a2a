import Foundation
import SemidMath
import SemidQuantization

/// Encoding throughput of a ``ResidualQuantizer`` against the physical limit of the same
/// arithmetic: one plain `sgemm` per level of the same shape (`[c, d] × [d, K_l]`, OpenBLAS on all
/// cores), measured in the same run so machine load affects both alike.
///
/// Encoding does `2·n·d·ΣK` flops of GEMM (the candidate scores) plus the exact float64 re-check of
/// close calls, the residual update and the per-row bookkeeping; the ratio says how much of the
/// GEMM speed survives all of that.
public enum EncodeBenchmark {
    /// One measurement.
    public struct Result: Sendable, Codable, Equatable {
        /// Rows encoded.
        public var rows: Int
        /// Vector dimension `d`.
        public var dimension: Int
        /// Codes per level.
        public var codebookSizes: [Int]
        /// Rows per chunk (encoding call).
        public var chunkRows: Int
        /// GEMM flops of one encoding pass: `2·rows·d·ΣK`.
        public var flops: Double
        /// Seconds to encode every row (best of the repetitions).
        public var encodeSeconds: Double
        /// Seconds of the plain `sgemm` calls of the same shapes (best of the repetitions).
        public var sgemmSeconds: Double
        /// `flops / encodeSeconds / 10⁹`.
        public var encodeGFLOPS: Double { flops / encodeSeconds / 1e9 }
        /// `flops / sgemmSeconds / 10⁹`.
        public var sgemmGFLOPS: Double { flops / sgemmSeconds / 1e9 }
        /// Encoding speed as a fraction of the plain `sgemm`'s.
        public var ratio: Double { sgemmSeconds / encodeSeconds }
    }

    /// Encodes `rows` synthetic rows (`chunkRows` at a time, one chunk of data reused) with random
    /// codebooks of `codebookSizes`, and times the plain `sgemm` of every chunk and level; each
    /// measurement is the best of `repetitions`.
    ///
    /// The data is a seeded Gaussian mixture (the residual levels' codebooks shrink by half per
    /// level, as trained ones do), so the exact re-check sees realistic close calls.
    ///
    /// - Throws: ``QuantizationError`` for sizes below 1.
    public static func run(rows: Int, dimension d: Int, codebookSizes: [Int], chunkRows: Int = 65_536,
                           repetitions: Int = 3, seed: UInt64 = 1) throws -> Result {
        guard rows >= 1, d >= 1, chunkRows >= 1, repetitions >= 1, !codebookSizes.isEmpty, codebookSizes.allSatisfy({ $0 >= 1 }) else {
            throw QuantizationError.invalidParameter(name: "bench encode", value: "rows \(rows), d \(d), K \(codebookSizes)",
                                                     expected: "positive sizes")
        }
        var generator = SeededGenerator(seed: seed)
        let chunk = min(rows, chunkRows)
        let centres = Matrix(rows: 256, cols: d, values: (0..<(256 * d)).map { _ in generator.nextGaussian() })
        var data = Matrix(rows: chunk, cols: d)
        for i in 0..<chunk {
            let c = generator.nextInt(below: centres.rows)
            for t in 0..<d { data[i, t] = centres[c, t] + 0.3 * generator.nextGaussian() }
        }
        var books: [Matrix] = []
        for (level, k) in codebookSizes.enumerated() {
            let scale = Float(pow(0.5, Double(level)))
            books.append(Matrix(rows: k, cols: d, values: (0..<(k * d)).map { _ in scale * generator.nextGaussian() }))
        }
        let quantizer = try ResidualQuantizer(codebooks: books)
        let passes = (rows + chunk - 1) / chunk
        let encodeSeconds = try best(of: repetitions) {
            for _ in 0..<passes { _ = try quantizer.encodeWithResiduals(data) }
        }
        let widest = codebookSizes.max() ?? 1
        var product = [Float](repeating: 0, count: chunk * widest)
        let sgemmSeconds = best(of: repetitions) {
            for _ in 0..<passes {
                for book in books {
                    data.values.withUnsafeBufferPointer { a in
                        book.values.withUnsafeBufferPointer { b in
                            product.withUnsafeMutableBufferPointer { c in
                                guard let a = a.baseAddress, let b = b.baseAddress, let c = c.baseAddress else { return }
                                BLAS.sgemm(transposeB: true, m: chunk, n: book.rows, k: d, alpha: -2, a: a, lda: d,
                                           b: b, ldb: d, c: c, ldc: book.rows)
                            }
                        }
                    }
                }
            }
        }
        let flops = 2 * Double(passes * chunk) * Double(d) * Double(codebookSizes.reduce(0, +))
        return Result(rows: passes * chunk, dimension: d, codebookSizes: codebookSizes, chunkRows: chunk, flops: flops,
                      encodeSeconds: encodeSeconds, sgemmSeconds: sgemmSeconds)
    }

    /// The shortest wall time of `count` runs of `body`.
    private static func best(of count: Int, _ body: () throws -> Void) rethrows -> Double {
        var fastest = Double.infinity
        for _ in 0..<count {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return fastest
    }
}
