import Foundation
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing
@testable import SemidIndex

/// The streaming build (``StreamingIndexBuild``) against the in-memory one, and the chunked reader
/// (``NpyRowSource``) it reads with.
@Suite struct StreamingBuildTests {
    /// 1,500 × 12 clustered rows rounded to multiples of 1/256 (so float16 holds them exactly).
    static let data: Matrix = {
        var m = IndexFixture.embeddings(rows: 1_500, cols: 12, clusters: 9, seed: 17)
        for i in m.values.indices { m.values[i] = (m.values[i] * 256).rounded() / 256 }
        return m
    }()

    /// 3 levels of 8 codes and 24 points per code: every level trains on a sample (192 of 1,500
    /// rows). Sinkhorn needs fewer items per prefix than codes: 3 levels of 32 codes, 4 per code.
    static func configuration(_ policy: CollisionPolicy) -> BuildConfiguration {
        let sinkhorn = policy.name == "sinkhorn"
        var c = BuildConfiguration(levels: 3, codebookSize: sinkhorn ? 32 : 8, collisionPolicy: policy, seed: 5)
        c.kmeans.maxPointsPerCentroid = sinkhorn ? 4 : 24
        c.rowsPerShard = 400
        return c
    }

    @Test(arguments: ["none", "suffix", "sinkhorn"])
    func streamingGivesTheInMemoryIndexByteForByte(policyName: String) throws {
        let policy = try #require(CollisionPolicy(name: policyName))
        let directory = try TemporaryDirectory()
        let file = directory.file("embeddings.npy")
        try NpyFile.write(Self.data, to: file)
        let configuration = Self.configuration(policy)
        #expect(ResidualKMeans.trainingRows(items: 1_500, configuration: IndexBuilder.residualKMeansConfiguration(configuration),
                                            seed: 5).count < 1_500)
        let items = IndexFixture.items(1_500)
        let memory = try IndexBuilder.build(
            embeddings: try NpyFile.readMatrix(at: file), items: items,
            inputs: [try InputFingerprint(role: "embeddings", path: file, rows: 1_500, columns: 12)], configuration: configuration)
        try IndexStore.write(memory.index, catalog: .new(memory.catalog), to: directory.file("memory"), overwrite: false)
        // Chunks of 333 rows: the last one is short, and none lines up with a GEMM block or a shard.
        let streamed = try StreamingIndexBuild.build(embeddings: try NpyRowSource(path: file), items: items,
                                                     configuration: configuration, chunkRows: 333)
        try IndexStore.write(streamed.index, catalog: streamed.catalog, to: directory.file("streamed"), overwrite: false)
        let files = try DirectorySnapshot.files(at: directory.file("memory"))
        #expect(files.keys.sorted() == (try DirectorySnapshot.files(at: directory.file("streamed"))).keys.sorted())
        #expect(files.keys.contains("raw_codes-00003.zst"))
        for (name, bytes) in try DirectorySnapshot.files(at: directory.file("streamed")) {
            #expect(bytes == files[name], "\(name) differs between the streaming and the in-memory build")
        }
        if policy == .suffix {
            #expect(streamed.index.manifest.codeSizes.last ?? 0 > 1, "the test data should collide")
        }
        if policy.name == "sinkhorn" {
            #expect(streamed.index.manifest.statistics.collisions.itemsMoved > 0, "sinkhorn should re-read and move items")
        }
    }

    @Test func float16InputAndPartsGiveTheIDsOfOneFloat32File() throws {
        let directory = try TemporaryDirectory()
        let single = directory.file("all.npy")
        try NpyFile.write(Self.data, to: single)
        let parts = directory.file("parts")
        try FileManager.default.createDirectory(atPath: parts, withIntermediateDirectories: false)
        // Parts of 700, 1 and 799 rows, in float16; names sort in row order.
        for (name, range) in [("p0.npy", 0..<700), ("p1.npy", 700..<701), ("p2.npy", 701..<1_500)] {
            try Self.writeFloat16(Self.data, rows: range, to: parts + "/" + name)
        }
        try "not a part".write(toFile: parts + "/README.txt", atomically: true, encoding: .utf8)
        let configuration = Self.configuration(.suffix)
        let reference = try StreamingIndexBuild.build(embeddings: try NpyRowSource(path: single), items: nil,
                                                      configuration: configuration, chunkRows: 256)
        let source = try NpyRowSource(path: parts)
        #expect(source.parts.map(\.rows) == [700, 1, 799] && source.dtype == "<f2")
        let fromParts = try StreamingIndexBuild.build(embeddings: source, items: nil, configuration: configuration, chunkRows: 256)
        #expect(fromParts.index.ids == reference.index.ids)
        #expect(fromParts.index.rawCodes == reference.index.rawCodes)
        #expect(fromParts.index.manifest.statistics == reference.index.manifest.statistics)
        #expect(fromParts.index.manifest.batches[0].reconstruction == reference.index.manifest.batches[0].reconstruction)
        let books = { (index: SemanticIndex) in (index.quantizer as? ResidualQuantizer)?.codebooks.map { $0.values.map(\.bitPattern) } }
        #expect(books(fromParts.index) == books(reference.index))
        // One fingerprint per part, each the file's XXH64.
        let inputs = fromParts.index.manifest.batches[0].inputs
        #expect(inputs.map(\.file) == ["p0.npy", "p1.npy", "p2.npy"] && inputs.map(\.rows) == [700, 1, 799])
        for input in inputs {
            let whole = try InputFingerprint(role: "embeddings", path: parts + "/" + input.file, rows: input.rows, columns: 12)
            #expect(input == whole)
        }
        // A comma-separated list of the same parts reads the same rows.
        let listed = try NpyRowSource(path: ["p0.npy", "p1.npy", "p2.npy"].map { parts + "/" + $0 }.joined(separator: ","))
        #expect(try listed.rows(0..<1_500) == Self.data)
    }

    @Test func rowsAndGatherReadWhatTheWholeFileHolds() throws {
        let directory = try TemporaryDirectory()
        let parts = [directory.file("a.npy"), directory.file("b.npy")]
        try NpyFile.write(Matrix(rows: 5, cols: 12, values: Array(Self.data.values[0..<60])), to: parts[0])
        try NpyFile.write(Matrix(rows: 1_495, cols: 12, values: Array(Self.data.values[60...])), to: parts[1])
        let source = try NpyRowSource(paths: parts)
        #expect(source.rows == 1_500 && source.columns == 12)
        #expect(try source.rows(3..<9) == Self.data.gatheringRows(Array(3..<9)))
        let wanted = [0, 4, 5, 6, 1_499, 2, 2, 7]
        #expect(try source.gather(wanted) == Self.data.gatheringRows(wanted))
        var seen = 0
        let prints = try source.forEachChunk(rows: 400) { first, chunk in
            #expect(first == seen && chunk == Self.data.gatheringRows(Array(first..<(first + chunk.rows))))
            seen += chunk.rows
        }
        #expect(seen == 1_500 && prints.map(\.rows) == [5, 1_495])
        #expect(throws: InputError.self) { try source.gather([1_500]) }
    }

    @Test func badPartsAreNamed() throws {
        let directory = try TemporaryDirectory()
        let good = directory.file("good.npy"), narrow = directory.file("narrow.npy"), half = directory.file("half.npy")
        let bad = directory.file("bad.npy")
        try NpyFile.write(Self.data, to: good)
        try NpyFile.write(Matrix(rows: 2, cols: 3, values: [1, 2, 3, 4, 5, 6]), to: narrow)
        try Self.writeFloat16(Self.data, rows: 0..<4, to: half)
        var values = Array(Self.data.values[0..<48])
        values[2 * 12 + 5] = .nan
        try NpyFile.write(Matrix(rows: 4, cols: 12, values: values), to: bad)
        func message(_ paths: [String]) -> String {
            do { _ = try NpyRowSource(paths: paths); return "no error" } catch { return "\(error)" }
        }
        #expect(message([good, narrow]).hasPrefix(narrow) && message([good, narrow]).contains("3 columns"))
        #expect(message([good, half]).hasPrefix(half) && message([good, half]).contains("same dtype"))
        #expect(message([]).contains("no .npy file"))
        #expect(message([good, directory.file("missing.npy")]).contains("missing.npy: file not found"))
        // A non-finite value is reported with its part and row when it is read.
        let source = try NpyRowSource(paths: [good, bad])
        do {
            _ = try source.forEachChunk(rows: 1_000) { _, _ in }
            Issue.record("a NaN was read")
        } catch let error as InputError {
            #expect(error.source == bad && error.field == "row 2" && error.problem.contains("column 5 is NaN"))
        }
        let empty = directory.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        #expect(throws: InputError.self) { try NpyRowSource(path: empty) }
    }

    /// Suffix ranks by sorting against a hash-table reference, packed (3 levels) and unpacked (9
    /// levels of 8 bits: 72 bits of codes).
    @Test(arguments: [(3, 5), (9, 256)])
    func suffixRanksAreRanksWithinEachGroupInItemOrder(levels: Int, k: Int) {
        var generator = SeededGenerator(seed: UInt64(levels))
        let n = 5_000
        // Few distinct prefixes, so groups are large: codes mostly 0 or 1, some up to k − 1.
        let values = (0..<(n * levels)).map { _ in Int32(generator.nextInt(below: 10) == 0 ? generator.nextInt(below: k) : generator.nextInt(below: 2)) }
        let raw = CodeMatrix(rows: n, levels: levels, values: values)
        var seen: [ArraySlice<Int32>: Int32] = [:]
        var expected: [Int32] = []
        for i in 0..<n {
            let rank = seen[raw.row(i), default: 0]
            expected.append(rank)
            seen[raw.row(i)] = rank + 1
        }
        let (ranks, largest) = SuffixResolver.ranks(of: raw)
        #expect(ranks == expected)
        #expect(largest == Int(seen.values.max() ?? 1) && largest > 1)
    }

    /// Writes `rows` of `x` as a `<f2` `.npy` file; every value must be exactly representable.
    static func writeFloat16(_ x: Matrix, rows: Range<Int>, to path: String) throws {
        let bits = x.values[(rows.lowerBound * x.cols)..<(rows.upperBound * x.cols)].map { value -> UInt16 in
            let b = value.bitPattern
            var half = UInt16((b >> 16) & 0x8000)
            if value != 0 {
                let exponent = Int((b >> 23) & 0xFF) - 127
                #expect((-14...15).contains(exponent) && b & 0x1FFF == 0, "\(value) is not a float16 value")
                half |= UInt16(exponent + 15) << 10 | UInt16((b & 0x7F_FFFF) >> 13)
            }
            return half
        }
        let file = NpyBytes.file(descr: "<f2", shape: [rows.count, x.cols], payload: NpyBytes.bytes(float16Bits: bits))
        try Data(file).write(to: URL(fileURLWithPath: path))
    }
}
