// swift-tools-version:6.1
import PackageDescription

// Layering (each target imports only those above it in this list):
//   CBLAS, CZstd, CSQLite      system C libraries
//   CSemidKernels              bfloat16 AMX matrix multiplication (C, used by SemidMath)
//   SemidMath                  matrices, BLAS (and bfloat16 AMX products), RNG, parallel loops
//   SemidNeuralNetwork         the one neural-network toolkit: dense layer (fp32/bf16), activations, layer norm,
//                              AdamW with its learning-rate schedule, parameter sets, buffers (RQ-VAE, next-item model)
//   SemidQuantization          k-means, residual k-means, RQ-VAE, Sinkhorn
//   SemidStorage               .npy / JSONL / TSV readers, zstd shards, SHA-256, SQLite catalog
//   SemidDecoding              code trie, NextTokenScorer, constrained beam search (math only: no index types)
//   SemidIndex                 semantic IDs, collision policies and reports, the on-disk index with its stored trie,
//                              the trie / HF-token exports
//   SemidEvaluation            leave-one-out splits, Recall/NDCG@K, popularity baseline, generation-based evaluation
//   SemidModel                 the built-in next-item model: layers with hand-written backward passes, training, scorer
//   SemidReport                SVG plotting (scales, ticks, axes, charts) and the HTML report of indexes
//   Semid                      `import Semid`: re-exports the modules above; the pipeline layer (one entry per verb)
//   SemidBenchmarks            synthetic IDs, toy scorers (TableScorer, RandomMLPScorer), DecodeBenchmark (`semid bench`)
//   SemidCLI                   the `semid` commands: parse, call the pipeline, render
//   semid                      the executable
//   CSemid                     the C header of the ABI (include/semid.h) and its one C function
//   SemidC                     the C ABI in Swift (`libsemidc`; a thin layer over the pipeline)
//   SemidFuzzing               the readers of untrusted bytes as fuzz targets (replayed by the tests)
//   SemidTestSupport           what the test targets share (Tests/SemidTestSupport; not in a product)
//   CFuzzerDriver, semid-fuzz  libFuzzer's driver and the fuzzing executable (`make fuzz`)
//   semid-example              README's "Using semid from Swift" example (Examples/GettingStarted), run by a test
// scripts/check-layering.py checks every target's imports against this table.
let package = Package(
    name: "semid",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "semid", targets: ["semid"]),
        // `import Semid`: the umbrella module re-exports every public module.
        .library(name: "Semid", targets: ["Semid"]),
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
        .target(name: "SemidNeuralNetwork", dependencies: ["SemidMath"]),
        .target(name: "SemidQuantization", dependencies: ["SemidMath", "SemidNeuralNetwork"]),
        .target(name: "SemidStorage", dependencies: ["SemidMath", "CZstd", "CSQLite"]),
        .target(name: "SemidDecoding", dependencies: ["SemidMath"]),
        .target(name: "SemidIndex", dependencies: ["SemidQuantization", "SemidStorage", "SemidDecoding"]),
        .target(name: "SemidEvaluation", dependencies: ["SemidIndex"]),
        .target(name: "SemidModel", dependencies: ["SemidEvaluation"]),
        .target(name: "SemidReport", dependencies: ["SemidModel"]),
        .target(
            name: "Semid",
            dependencies: ["SemidMath", "SemidNeuralNetwork", "SemidQuantization", "SemidStorage", "SemidIndex", "SemidDecoding",
                           "SemidEvaluation", "SemidModel", "SemidReport"]),
        .target(name: "SemidBenchmarks", dependencies: ["SemidDecoding"]),
        .target(
            name: "SemidCLI",
            dependencies: [
                "Semid",
                "SemidBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "semid", dependencies: ["SemidCLI"]),
        // The C ABI: semid.h (the contract, imported by SemidC so C types match) and its implementation.
        .target(name: "CSemid"),
        .target(name: "SemidC", dependencies: ["CSemid", "Semid"]),
        // Fuzzing: the targets (a library, so the tests replay their corpora) and the executable that
        // `make fuzz` builds with -sanitize=fuzzer (libFuzzer's driver is declared in CFuzzerDriver).
        .target(name: "SemidFuzzing", dependencies: ["SemidModel"]),
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "semid-fuzz", dependencies: ["SemidFuzzing", "CFuzzerDriver"]),
        // README's "Using semid from Swift", compiled and run by SemidTests (the README's code block
        // must equal Examples/GettingStarted/main.swift).
        .executableTarget(name: "semid-example", dependencies: ["Semid"], path: "Examples/GettingStarted"),

        // Shared by the test targets: temporary directories, NumPy, finite differences, synthetic data.
        .target(name: "SemidTestSupport", dependencies: ["SemidMath"], path: "Tests/SemidTestSupport"),
        .testTarget(name: "SemidMathTests", dependencies: ["SemidMath", "SemidTestSupport"]),
        .testTarget(name: "SemidNeuralNetworkTests", dependencies: ["SemidNeuralNetwork", "SemidTestSupport"]),
        .testTarget(name: "SemidQuantizationTests", dependencies: ["SemidQuantization", "SemidTestSupport"]),
        .testTarget(name: "SemidStorageTests", dependencies: ["SemidStorage", "SemidTestSupport"]),
        .testTarget(name: "SemidIndexTests", dependencies: ["SemidIndex", "SemidTestSupport"]),
        .testTarget(name: "SemidDecodingTests", dependencies: ["SemidDecoding", "SemidBenchmarks", "SemidTestSupport"]),
        .testTarget(name: "SemidCLITests", dependencies: ["SemidCLI", "SemidStorage", "SemidMath", "SemidTestSupport"]),
        .testTarget(name: "SemidEvaluationTests", dependencies: ["SemidEvaluation", "SemidDecoding", "SemidStorage", "SemidTestSupport"]),
        .testTarget(name: "SemidModelTests", dependencies: ["SemidModel", "SemidTestSupport"]),
        .testTarget(name: "SemidCTests", dependencies: ["SemidC", "CSemid", "SemidStorage", "SemidTestSupport"]),
        .testTarget(name: "SemidFuzzingTests", dependencies: ["SemidFuzzing", "SemidTestSupport"]),
        .testTarget(name: "SemidTests", dependencies: ["Semid", "SemidTestSupport"]),
        .testTarget(name: "SemidReportTests", dependencies: ["SemidReport", "SemidIndex", "SemidQuantization", "SemidStorage", "SemidMath", "SemidTestSupport"]),
    ]
)
