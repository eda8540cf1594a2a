// swift-tools-version:6.1
import PackageDescription

// Layering (each target imports only those above it in this list):
//   CBLAS, CZstd, CSQLite      system C libraries
//   SemidMath                  matrices, BLAS, RNG, parallel loops
//   SemidQuantization          k-means, residual k-means, RQ-VAE, Sinkhorn
//   SemidStorage               .npy / JSONL / TSV readers, zstd shards, SHA-256, SQLite catalog
//   SemidIndex                 semantic IDs, collision policies and reports, the on-disk index
//   SemidDecoding              code trie, NextTokenScorer, constrained beam search (SemidMath only for now)
//   SemidEvaluation            leave-one-out splits, Recall/NDCG@K, popularity baseline, generation-based evaluation
//   SemidModel                 the built-in next-item model: layers with hand-written backward passes, training, scorer
//   SemidCLI                   the `semid` commands (a thin layer over the library)
//   semid                      the executable
let package = Package(
    name: "semid",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "semid", targets: ["semid"]),
        .library(name: "SemidIndex", targets: ["SemidIndex"]),
        .library(name: "SemidModel", targets: ["SemidModel"]),
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

        .target(name: "SemidMath", dependencies: ["CBLAS"]),
        .target(name: "SemidQuantization", dependencies: ["SemidMath"]),
        .target(name: "SemidStorage", dependencies: ["SemidMath", "CZstd", "CSQLite"]),
        .target(name: "SemidIndex", dependencies: ["SemidQuantization", "SemidStorage"]),
        .target(name: "SemidDecoding", dependencies: ["SemidMath"]),
        .target(name: "SemidEvaluation", dependencies: ["SemidDecoding", "SemidStorage"]),
        .target(name: "SemidModel", dependencies: ["SemidEvaluation", "SemidDecoding", "SemidIndex", "SemidStorage"]),
        .target(
            name: "SemidCLI",
            dependencies: [
                "SemidIndex", "SemidModel", "SemidEvaluation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "semid", dependencies: ["SemidCLI"]),

        .testTarget(name: "SemidMathTests", dependencies: ["SemidMath"]),
        .testTarget(name: "SemidQuantizationTests", dependencies: ["SemidQuantization"]),
        .testTarget(name: "SemidStorageTests", dependencies: ["SemidStorage"]),
        .testTarget(name: "SemidIndexTests", dependencies: ["SemidIndex"]),
        .testTarget(name: "SemidDecodingTests", dependencies: ["SemidDecoding"]),
        .testTarget(name: "SemidCLITests", dependencies: ["SemidCLI", "SemidStorage", "SemidMath"]),
        .testTarget(name: "SemidEvaluationTests", dependencies: ["SemidEvaluation", "SemidDecoding", "SemidStorage"]),
        .testTarget(name: "SemidModelTests", dependencies: ["SemidModel"]),
    ]
)
