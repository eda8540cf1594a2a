// swift-tools-version:6.1
import PackageDescription

// Layering (each target imports only those above it in this list):
//   CBLAS, CZstd, CSQLite      system C libraries
//   CSemidKernels              bfloat16 AMX matrix multiplication (C, used by SemidMath)
//   SemidMath                  matrices, BLAS, RNG, parallel loops
//   SemidQuantization          k-means, residual k-means, RQ-VAE, Sinkhorn
//   SemidStorage               .npy / JSONL / TSV readers, zstd shards, SHA-256, SQLite catalog
//   SemidIndex                 semantic IDs, collision policies and reports, the on-disk index
//   SemidDecoding              code trie (stored in the index), NextTokenScorer, constrained beam search
//   SemidEvaluation            leave-one-out splits, Recall/NDCG@K, popularity baseline, generation-based evaluation
//   SemidModel                 the built-in next-item model: layers with hand-written backward passes, training, scorer
//   SemidReport                SVG plotting (scales, ticks, axes, charts) and the HTML report of indexes
//   SemidCLI                   the `semid` commands (a thin layer over the library)
//   semid                      the executable
//   CSemid                     the C header of the ABI (include/semid.h) and its one C function
//   SemidC                     the C ABI in Swift (`libsemidc`; a thin layer over the library)
//   SemidFuzzing               the readers of untrusted bytes as fuzz targets (replayed by the tests)
//   SemidTestSupport           what the test targets share (Tests/SemidTestSupport; not in a product)
//   CFuzzerDriver, semid-fuzz  libFuzzer's driver and the fuzzing executable (`make fuzz`)
let package = Package(
    name: "semid",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "semid", targets: ["semid"]),
        .library(name: "Semid", targets: ["SemidMath", "SemidQuantization", "SemidStorage", "SemidIndex",
                                          "SemidDecoding", "SemidEvaluation", "SemidModel", "SemidReport"]),
        // The C ABI as a shared library, libsemidc.so (libsemidc.dylib on macOS): what the Python
        // package binds to. `semid` is taken by the executable product.
        .library(name: "semidc", type: .dynamic, targets: ["SemidC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),

        // bfloat16 matrix multiplication on Intel AMX tiles (RQ-VAE training); plain C with target
        // attributes, unused unless the CPU and kernel allow AMX.
        .target(name: "CSemidKernels"),
        .target(name: "SemidMath", dependencies: ["CBLAS", "CSemidKernels"]),
        .target(name: "SemidQuantization", dependencies: ["SemidMath"]),
        .target(name: "SemidStorage", dependencies: ["SemidMath", "CZstd", "CSQLite"]),
        .target(name: "SemidIndex", dependencies: ["SemidQuantization", "SemidStorage"]),
        .target(name: "SemidDecoding", dependencies: ["SemidIndex"]),
        .target(name: "SemidEvaluation", dependencies: ["SemidDecoding"]),
        .target(name: "SemidModel", dependencies: ["SemidEvaluation"]),
        .target(name: "SemidReport", dependencies: ["SemidModel"]),
        .target(
            name: "SemidCLI",
            dependencies: [
                "SemidModel",
                "SemidReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "semid", dependencies: ["SemidCLI"]),
        // The C ABI: semid.h (the contract, imported by SemidC so C types match) and its implementation.
        .target(name: "CSemid"),
        .target(name: "SemidC", dependencies: ["CSemid", "SemidDecoding"]),
        // Fuzzing: the targets (a library, so the tests replay their corpora) and the executable that
        // `make fuzz` builds with -sanitize=fuzzer (libFuzzer's driver is declared in CFuzzerDriver).
        .target(name: "SemidFuzzing", dependencies: ["SemidModel"]),
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "semid-fuzz", dependencies: ["SemidFuzzing", "CFuzzerDriver"]),

        // Shared by the test targets: temporary directories, NumPy, finite differences, synthetic data.
        .target(name: "SemidTestSupport", dependencies: ["SemidMath"], path: "Tests/SemidTestSupport"),
        .testTarget(name: "SemidMathTests", dependencies: ["SemidMath", "SemidTestSupport"]),
        .testTarget(name: "SemidQuantizationTests", dependencies: ["SemidQuantization", "SemidTestSupport"]),
        .testTarget(name: "SemidStorageTests", dependencies: ["SemidStorage", "SemidTestSupport"]),
        .testTarget(name: "SemidIndexTests", dependencies: ["SemidIndex", "SemidTestSupport"]),
        .testTarget(name: "SemidDecodingTests", dependencies: ["SemidDecoding", "SemidTestSupport"]),
        .testTarget(name: "SemidCLITests", dependencies: ["SemidCLI", "SemidStorage", "SemidMath", "SemidTestSupport"]),
        .testTarget(name: "SemidEvaluationTests", dependencies: ["SemidEvaluation", "SemidDecoding", "SemidStorage", "SemidTestSupport"]),
        .testTarget(name: "SemidModelTests", dependencies: ["SemidModel", "SemidTestSupport"]),
        .testTarget(name: "SemidCTests", dependencies: ["SemidC", "CSemid", "SemidStorage", "SemidTestSupport"]),
        .testTarget(name: "SemidFuzzingTests", dependencies: ["SemidFuzzing", "SemidTestSupport"]),
        .testTarget(name: "SemidReportTests", dependencies: ["SemidReport", "SemidIndex", "SemidQuantization", "SemidStorage", "SemidMath", "SemidTestSupport"]),
    ]
)
