import Foundation
import Semid

// Usage: semid-example [DATASET_DIRECTORY] [OUTPUT_INDEX]
let arguments = CommandLine.arguments
let data = arguments.count > 1 ? arguments[1] : "Datasets/amazon-beauty"
let output = arguments.count > 2 ? arguments[2] : "out/example.semid"

do {
    // 1. Build: 3 levels of 256 codes by residual k-means, a suffix level for collisions.
    var build = BuildRequest(
        embeddings: .file(data + "/embeddings.npy"), items: .file(data + "/items.jsonl"),
        configuration: BuildConfiguration(levels: 3, codebookSize: 256, collisionPolicy: .suffix, seed: 7),
        output: output)
    build.overwrite = true
    let built = try Pipeline.build(build)
    print("built \(built.index.itemCount) items, IDs of length \(built.index.ids.levels), "
          + "\(built.report.final.distinctIds) distinct")

    // 2. Train the built-in next-item model for one epoch (a real run trains until validation stops improving).
    var training = TrainingConfiguration()
    training.epochs = 1
    training.validationUsers = 500
    var model = ModelConfiguration()
    model.dimension = 32
    model.feedForward = 128
    let trained = try Pipeline.train(TrainRequest(
        inputs: ModelTraining.Inputs(index: output, sequences: data + "/sequences.tsv"), model: model, training: training))
    print("trained \(trained.report.epochs.count) epoch(s)")

    // 3. Open the index with its model and decode the next items for a history: every result is a real item.
    let index = try Pipeline.open(output)
    let history: [Int32] = [3, 11, 12]
    let results = try index.recommend(histories: [history], top: 5, beam: 20, excludeHistory: true)
    let titles = try index.index.catalog().titles(of: results[0].map { Int($0.item) })
    for (rank, result) in results[0].enumerated() {
        let id = result.codes.map(String.init).joined(separator: "-")
        print("\(rank + 1). item \(result.item)  \(id)  \(titles[Int(result.item)] ?? "(no title)")")
    }
} catch {
    print("error: \(error)")
    exit(1)
}
