import Foundation
import Semid
import SemidTestSupport
import Testing

/// The pipeline entries in process: typed requests, typed results and typed errors.
@Suite struct PipelineTests {
    /// A fresh directory (SemidTestSupport's), removed by `body`'s end.
    func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = try TemporaryDirectory()
        try body(directory.path)
    }

    func randomMatrix(rows: Int, cols: Int, seed: UInt64) -> Matrix {
        var generator = SeededGenerator(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Float.random(in: -1...1, using: &generator) })
    }

    /// A file and the same matrix in memory give the same IDs; the file's fingerprint is recorded.
    @Test func buildFromFileAndFromMemoryGiveTheSameIDs() throws {
        try withDirectory { dir in
            let matrix = randomMatrix(rows: 300, cols: 8, seed: 5)
            try NpyFile.write(matrix, to: dir + "/emb.npy")
            let configuration = BuildConfiguration(levels: 2, codebookSize: 8, collisionPolicy: .suffix, seed: 3)
            let fromFile = try Pipeline.build(BuildRequest(embeddings: .file(dir + "/emb.npy"), configuration: configuration,
                                                           output: dir + "/a.semid"))
            let fromMemory = try Pipeline.build(BuildRequest(embeddings: .memory(matrix, fingerprint: nil),
                                                             configuration: configuration, output: dir + "/b.semid"))
            #expect(fromFile.index.ids.values == fromMemory.index.ids.values)
            #expect(fromFile.report.final.collisionRate == 0)
            #expect(fromFile.trieStored)
            #expect(fromFile.index.manifest.batches.first?.inputs.map(\.role) == ["embeddings"])
            #expect(fromMemory.index.manifest.batches.first?.inputs.isEmpty == true)
            let again = try? Pipeline.build(BuildRequest(embeddings: .memory(matrix, fingerprint: nil),
                                                         configuration: configuration, output: dir + "/b.semid"))
            #expect(again == nil, "an existing index is replaced only with overwrite")
        }
    }

    /// Typed errors name the files and parameters involved.
    @Test func inputsThatDisagreeAreTypedErrors() throws {
        try withDirectory { dir in
            let matrix = randomMatrix(rows: 20, cols: 4, seed: 1)
            try NpyFile.write(matrix, to: dir + "/emb.npy")
            let tooSmall = BuildConfiguration(levels: 2, codebookSize: 32)
            #expect(throws: PipelineError.fewerRowsThanCodes(file: dir + "/emb.npy", rows: 20, codebookSize: 32)) {
                try Pipeline.build(BuildRequest(embeddings: .file(dir + "/emb.npy"), configuration: tooSmall, output: dir + "/x.semid"))
            }
            try Data("not an index".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
            var request = BuildRequest(embeddings: .file(dir + "/emb.npy"), configuration: BuildConfiguration(levels: 1, codebookSize: 4),
                                       output: dir)
            request.overwrite = true
            #expect(throws: PipelineError.outputNotAnIndex(path: dir)) { try Pipeline.build(request) }
        }
    }

    /// Items added later keep every existing ID; user IDs are stored and a second create is refused.
    @Test func addAndUserIDsKeepExistingIDs() throws {
        try withDirectory { dir in
            let matrix = randomMatrix(rows: 200, cols: 6, seed: 2)
            let index = dir + "/a.semid"
            let built = try Pipeline.build(BuildRequest(embeddings: .memory(matrix, fingerprint: nil),
                                                        configuration: BuildConfiguration(levels: 2, codebookSize: 8), output: index))
            let added = try Pipeline.add(AddRequest(index: index, embeddings: .memory(randomMatrix(rows: 30, cols: 6, seed: 9),
                                                                                      fingerprint: nil)))
            #expect(added.added == 30 && added.index.itemCount == 230)
            #expect(Array(added.index.ids.values.prefix(built.index.ids.values.count)) == built.index.ids.values)
            #expect(Set((0..<230).map { added.index.ids.values[$0 * added.index.ids.levels ..< ($0 + 1) * added.index.ids.levels] }).count == 230)
            let histories = (0..<40).map { user in UserSequence(user: user, items: (0..<6).map { step in (user * 7 + step * 13) % 230 }) }
            let users = UserIDRequest(index: index, sequences: .memory(histories, fingerprint: nil),
                                      configuration: UserIDConfiguration(levels: 2, codebookSize: 4))
            let result = try Pipeline.assignUserIDs(users)
            #expect(result.assigned == 40 && result.users?.section.users == 40)
            #expect(throws: PipelineError.userIDsExist(index: index)) { try Pipeline.assignUserIDs(users) }
        }
    }

    /// Bad evaluation settings from a Swift caller are typed errors, before any split is made.
    @Test func evaluationSettingsAreCheckedByThePipeline() throws {
        let opened = try Pipeline.open(PackagePaths.path("Codebooks/beauty.semid"))
        let sequences = [UserSequence(user: 0, items: [1, 2, 3, 4])]
        var request = EvaluationRequest(index: opened, sequences: .memory(sequences, fingerprint: nil))
        request.maxHistory = 0
        #expect(throws: ModelError.invalidParameter(name: "maxHistory", value: "0", expected: "at least 1")) {
            _ = try Pipeline.evaluate(request)
        }
        request.maxHistory = nil
        request.settings = EvaluationSettings(cutoffs: [])
        #expect(throws: EvaluationError.self) { _ = try Pipeline.evaluate(request) }
    }
}
