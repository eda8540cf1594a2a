import Foundation
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing
@testable import SemidIndex

/// The per-item squared reconstruction errors stored by build and add (`reconstruction_errors`).
@Suite("Reconstruction errors per item")
struct ReconstructionErrorsTests {
    @Test("squaredErrors by hand: ‖x − x̂‖² per row")
    func byHand() {
        let x = Matrix(rows: 2, cols: 3, values: [1, 2, 3, 0, 0, 0])
        let r = Matrix(rows: 2, cols: 3, values: [1, 0, 3, 1, 1, -1])
        #expect(ReconstructionErrors.squaredErrors(of: x, reconstruction: r) == [4, 3])
        #expect(ReconstructionErrors.squaredErrors(of: Matrix(rows: 0, cols: 3), reconstruction: Matrix(rows: 0, cols: 3)) == [])
    }

    @Test("build stores one error per item; their mean is the manifest's MSE; they survive a write and read")
    func storedByBuild() throws {
        let data = IndexFixture.embeddings(rows: 80, cols: 8)
        let configuration = BuildConfiguration(levels: 2, codebookSize: 4, collisionPolicy: .suffix, seed: 3)
        let (index, catalog) = try IndexBuilder.build(embeddings: data, items: IndexFixture.items(80), inputs: [],
                                                      configuration: configuration)
        let errors = try #require(try ReconstructionErrors.stored(in: index))
        #expect(errors.count == 80)
        let mse = errors.reduce(0.0) { $0 + Double($1) } / 80
        #expect(abs(mse - index.manifest.batches[0].reconstruction.meanSquaredError) <= 1e-9 * max(1, mse))
        // The same as decoding the raw codes again.
        #expect(errors == (try ReconstructionErrors.compute(for: index, embeddings: data)))

        let dir = try TemporaryDirectory()
        try IndexStore.write(index, catalog: .new(catalog), to: dir.file("x.semid"), overwrite: false)
        let read = try IndexStore.open(at: dir.file("x.semid"))
        #expect(try ReconstructionErrors.stored(in: read) == errors)
        #expect(read.manifest.shards.contains { $0.array == ReconstructionErrors.itemArray && $0.dtype == "f32" && $0.shape == [80] })
    }

    @Test("add appends the new items' errors and keeps the old ones; an index without errors stays without")
    func extendedByAdd() throws {
        let data = IndexFixture.embeddings(rows: 90, cols: 8)
        let first = Matrix(rows: 60, cols: 8, values: Array(data.values[0..<(60 * 8)]))
        let rest = Matrix(rows: 30, cols: 8, values: Array(data.values[(60 * 8)...]))
        let configuration = BuildConfiguration(levels: 2, codebookSize: 4, collisionPolicy: .suffix, seed: 3)
        let (index, catalog) = try IndexBuilder.build(embeddings: first, items: nil, inputs: [], configuration: configuration)
        let dir = try TemporaryDirectory()
        let path = dir.file("x.semid")
        try IndexStore.write(index, catalog: .new(catalog), to: path, overwrite: false)
        let before = try #require(try ReconstructionErrors.stored(in: index))
        let added = try IndexAdder.add(to: path, embeddings: rest, items: nil, inputs: [])
        let after = try #require(try ReconstructionErrors.stored(in: added))
        #expect(after.count == 90)
        #expect(Array(after[0..<60]) == before)
        let expected = ReconstructionErrors.squaredErrors(of: rest, reconstruction: try added.quantizer.reconstruct(
            CodeMatrix(rows: 30, levels: 2, values: Array(added.rawCodes.values[(60 * 2)...]))))
        #expect(Array(after[60...]) == expected)

        // An index written before the array existed: add does not invent a partial one.
        var old = index
        old.attachments.removeValue(forKey: ReconstructionErrors.itemArray)
        let oldPath = dir.file("old.semid")
        try IndexStore.write(old, catalog: .new(catalog), to: oldPath, overwrite: false)
        let oldAdded = try IndexAdder.add(to: oldPath, embeddings: rest, items: nil, inputs: [])
        #expect(try ReconstructionErrors.stored(in: oldAdded) == nil)
    }

    @Test("a stored array of the wrong shape or with a negative value is reported as corrupt")
    func corrupt() throws {
        var (index, _) = try IndexFixture.build(rows: 20)
        index.attachments[ReconstructionErrors.itemArray] = ShardArray(float32: [Float](repeating: 1, count: 19), shape: [19])
        #expect(throws: IndexError.self) { try ReconstructionErrors.stored(in: index) }
        index.attachments[ReconstructionErrors.itemArray] = ShardArray(float32: [1, -1] + [Float](repeating: 1, count: 18), shape: [20])
        do {
            _ = try ReconstructionErrors.stored(in: index)
            Issue.record("a negative error was accepted")
        } catch {
            #expect(String(describing: error).contains("row 1"))
        }
    }

    @Test("compute refuses assigned IDs and vectors that are not the embeddings")
    func computeRefuses() throws {
        let (index, _) = try IndexFixture.build(rows: 20)
        #expect(throws: IndexError.self) { try ReconstructionErrors.compute(for: index, embeddings: Matrix(rows: 19, cols: 8)) }
        var assigned = index
        assigned.manifest.parameters.method = "random"
        #expect(throws: IndexError.self) { try ReconstructionErrors.compute(for: assigned, embeddings: Matrix(rows: 20, cols: 8)) }
        var collaborative = index
        collaborative.manifest.parameters.source = .collaborative
        #expect(throws: IndexError.self) { try ReconstructionErrors.compute(for: collaborative, embeddings: Matrix(rows: 20, cols: 8)) }
    }
}
