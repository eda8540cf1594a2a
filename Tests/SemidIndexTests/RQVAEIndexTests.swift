import Foundation
import Testing
@testable import SemidIndex
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport

/// RQ-VAE indexes on disk: the trained network survives a save and reload bit for bit, and the
/// same seed gives byte-identical shards.
@Suite struct RQVAEIndexTests {
    /// 400 points in 24-d around 20 centres, unit scale.
    static let embeddings: Matrix = {
        var rng = SeededGenerator(seed: 77)
        let centres = (0..<(20 * 24)).map { _ in 0.3 * rng.nextGaussian() }
        var values: [Float] = []
        for i in 0..<400 {
            let c = i % 20
            for t in 0..<24 { values.append(centres[c * 24 + t] + 0.05 * rng.nextGaussian()) }
        }
        return Matrix(rows: 400, cols: 24, values: values)
    }()

    static func configuration(seed: UInt64 = 7) -> BuildConfiguration {
        var c = BuildConfiguration(levels: 3, codebookSize: 8, collisionPolicy: .suffix, seed: seed)
        c.method = .rqVAE
        c.rqvae.latentDimension = 6
        c.rqvae.hidden = [32, 16]
        c.rqvae.epochs = 8
        c.rqvae.batchSize = 64
        c.rqvae.evaluateEvery = 4
        c.rqvae.optimizer.learningRate = 3e-3
        c.rqvae.optimizer.warmupSteps = 4
        c.rowsPerShard = 150
        return c
    }

    static func build(seed: UInt64 = 7, to path: String) throws -> SemanticIndex {
        let built = try IndexBuilder.build(embeddings: embeddings, items: nil, inputs: [],
                                           configuration: configuration(seed: seed))
        try IndexStore.write(built.index, catalog: .new(built.catalog), to: path, overwrite: false)
        return built.index
    }

    @Test func saveReloadReEncodeGivesTheSameIDs() throws {
        let scratch = try TemporaryDirectory()
        let dir = scratch.path
        let built = try Self.build(to: dir + "/a.semid")
        let opened = try IndexStore.open(at: dir + "/a.semid")
        let original = try #require(built.quantizer as? RQVAEQuantizer)
        let reloaded = try #require(opened.quantizer as? RQVAEQuantizer)
        #expect(reloaded == original)
        #expect(reloaded.network.hidden == [32, 16] && reloaded.latentDimension == 6)
        #expect(opened.rawCodes == built.rawCodes)
        #expect(opened.ids == built.ids)
        // Re-encoding with the reloaded network reproduces the stored raw codes exactly.
        #expect(try reloaded.encode(Self.embeddings) == opened.rawCodes)
        #expect(try reloaded.reconstruct(opened.rawCodes) == (try original.reconstruct(built.rawCodes)))
        // Quantizer arrays are not mistaken for attachments: the only one is the per-item error.
        #expect(opened.attachments.keys.sorted() == [ReconstructionErrors.itemArray])
        // The manifest records the configuration and the training report.
        let p = opened.manifest.parameters
        #expect(p.method == "rq-vae")
        #expect(p.rqvae?.hidden == [32, 16] && p.rqvae?.epochs == 8 && p.kmeans == nil)
        let report = try #require(opened.manifest.statistics.rqvae).decode(RQVAE.Report.self, source: "test")
        #expect(report.history.count == 8)
        #expect(report.history.compactMap(\.evaluation).count == 2)
        #expect(opened.manifest.shards.contains { $0.array == "rqvae.encoder.0.weight" && $0.shape == [32, 24] })
        #expect(opened.manifest.shards.contains { $0.array == "rqvae.codebooks" && $0.shape == [3, 8, 6] })
        // Relative MSE in the manifest is the decoder's reconstruction from the codes.
        let recon = try reloaded.reconstruct(opened.rawCodes)
        var error = 0.0
        for i in recon.values.indices { let e = Double(recon.values[i] - Self.embeddings.values[i]); error += e * e }
        let expected = error / 400 / Self.embeddings.totalVariance
        #expect(abs(opened.manifest.batches[0].reconstruction.relativeMse - expected) < 1e-6)
        // And a rewrite of the opened index keeps its network.
        try IndexStore.write(opened, catalog: .new(try opened.catalog().allItems()), to: dir + "/b.semid", overwrite: false)
        #expect(try IndexStore.open(at: dir + "/b.semid").quantizer as? RQVAEQuantizer == original)
    }

    @Test func sameSeedGivesByteIdenticalShards() throws {
        let scratch = try TemporaryDirectory()
        let dir = scratch.path
        _ = try Self.build(seed: 7, to: dir + "/a.semid")
        _ = try Self.build(seed: 7, to: dir + "/b.semid")
        _ = try Self.build(seed: 8, to: dir + "/c.semid")
        let a = try IndexStore.readManifest(at: dir + "/a.semid")
        let c = try IndexStore.readManifest(at: dir + "/c.semid")
        #expect(a.shards.count > 0)
        for shard in a.shards {
            let first = try FileSystem.read(dir + "/a.semid/" + shard.file)
            let second = try FileSystem.read(dir + "/b.semid/" + shard.file)
            #expect(first == second, "\(shard.file) differs between two builds with the same seed")
        }
        #expect(try FileSystem.read(dir + "/a.semid/manifest.json") == (try FileSystem.read(dir + "/b.semid/manifest.json")))
        let weights = a.shards.first { $0.array == "rqvae.encoder.0.weight" }!
        let other = c.shards.first { $0.array == "rqvae.encoder.0.weight" }!
        #expect(weights.sha256 != other.sha256)
    }

    @Test func missingOrMisshapenNetworkArraysAreReportedAsCorruption() throws {
        let scratch = try TemporaryDirectory()
        let dir = scratch.path
        let index = try Self.build(to: dir + "/a.semid")
        var arrays: [String: ShardArray] = [:]
        for (name, array) in try StoredQuantizer.arrays(of: index.quantizer) { arrays[name] = array }
        var missing = arrays
        missing["rqvae.decoder.1.bias"] = nil
        #expect(throws: IndexError.self) { try StoredQuantizer.load(method: "rq-vae", arrays: missing, path: "x", parameters: index.manifest.parameters) }
        var wrong = arrays
        wrong["rqvae.decoder.0.weight"] = ShardArray(float32: [Float](repeating: 0, count: 6), shape: [2, 3])
        #expect(throws: IndexError.self) { try StoredQuantizer.load(method: "rq-vae", arrays: wrong, path: "x", parameters: index.manifest.parameters) }
        var otherShape = index.manifest.parameters
        otherShape.codebookSizes = Array(repeating: 16, count: otherShape.levels)
        #expect(throws: IndexError.self) { try StoredQuantizer.load(method: "rq-vae", arrays: arrays, path: "x", parameters: otherShape) }
        #expect(try StoredQuantizer.load(method: "rq-vae", arrays: arrays, path: "x", parameters: index.manifest.parameters) as? RQVAEQuantizer
                == index.quantizer as? RQVAEQuantizer)
    }

    @Test func addingItemsAfterAReloadEncodesThemWithTheStoredNetwork() throws {
        let scratch = try TemporaryDirectory()
        let dir = scratch.path
        let config = Self.configuration()
        let first = Self.embeddings.rows(0..<350), rest = Self.embeddings.rows(350..<400)
        let built = try IndexBuilder.build(embeddings: first, items: nil, inputs: [], configuration: config)
        try IndexStore.write(built.index, catalog: .new(built.catalog), to: dir + "/a.semid", overwrite: false)
        let final = try IndexAdder.add(to: dir + "/a.semid", embeddings: rest, items: nil, inputs: [])
        let original = try #require(built.index.quantizer as? RQVAEQuantizer)
        // New items' raw codes are the trained network's greedy codes; existing IDs did not move.
        #expect(final.rawCodes.gatheringRows(Array(350..<400)) == (try original.encode(rest)))
        #expect(final.ids.gatheringRows(Array(0..<350)) == built.index.ids)
        // The suffix policy keeps every ID unique.
        #expect(Set((0..<400).map { Array(final.ids.row($0)) }).count == 400)
    }
}
