import Foundation
import SemidIndex
import SemidStorage
import Testing

/// Several `semid` processes on one index at once (issue 16, item 1): writers never lose each
/// other's work, and readers always see one whole version.
@Suite("concurrent writers and readers (real binary)", .serialized)
struct ConcurrentWriterTests {
    /// Checks that `index` is whole: `inspect` accepts it, it has `items` items and one catalog row
    /// per item, and every source id of `sourceIDs` is in the catalog.
    func expectWhole(_ index: String, items: Int, sourceIDs: Set<String> = [],
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let inspect = try Semid.run(["inspect", index])
        #expect(inspect.status == 0, "\(inspect)", sourceLocation: sourceLocation)
        let opened = try IndexStore.open(at: index)
        #expect(opened.itemCount == items, sourceLocation: sourceLocation)
        let rows = try opened.catalog().allItems()
        #expect(rows.count == items, sourceLocation: sourceLocation)
        let present = Set(rows.compactMap(\.sourceID))
        #expect(sourceIDs.isSubset(of: present), "missing: \(sourceIDs.subtracting(present).sorted())", sourceLocation: sourceLocation)
    }

    @Test("two adds at once both land, three times over")
    func twoAddsAtOnce() throws {
        for trial in 0..<3 {
            let w = try SafetyWorkspace()
            let a = try HostileRun.start(["add", w.index, "--embeddings", try w.newEmbeddings(10, seed: 1, name: "a.npy"), "--quiet"])
            let b = try HostileRun.start(["add", w.index, "--embeddings", try w.newEmbeddings(12, seed: 2, name: "b.npy"), "--quiet"])
            let (ra, rb) = (a.wait(), b.wait())
            #expect(ra.exited && ra.status == 0, "trial \(trial), first add: \(ra)")
            #expect(rb.exited && rb.status == 0, "trial \(trial), second add: \(rb)")
            try expectWhole(w.index, items: 80 + 10 + 12)
            let batches = try IndexStore.readManifest(at: w.index).batches.map(\.items)
            #expect(batches.sorted() == [10, 12, 80], "trial \(trial): \(batches)")
        }
    }

    @Test("two adds with item catalogs at once keep every source id")
    func twoAddsWithCatalogs() throws {
        let w = try SafetyWorkspace()
        // The second batch's ids depend on which add commits first, so give each add ids that fit
        // after the other: the lock makes the second one re-read the index and fail cleanly if they
        // do not fit, instead of writing a catalog that disagrees with the shards.
        let a = try HostileRun.start(["add", w.index, "--embeddings", try w.newEmbeddings(10, seed: 1, name: "a.npy"),
                                      "--items", try w.newItems(first: 80, count: 10, prefix: "A", name: "a.jsonl"), "--quiet"])
        let ra = a.wait()
        let b = try HostileRun.start(["add", w.index, "--embeddings", try w.newEmbeddings(5, seed: 2, name: "b.npy"),
                                      "--items", try w.newItems(first: 90, count: 5, prefix: "B", name: "b.jsonl"), "--quiet"])
        let c = try HostileRun.start(["add", w.index, "--embeddings", try w.newEmbeddings(5, seed: 3, name: "c.npy"),
                                      "--items", try w.newItems(first: 90, count: 5, prefix: "C", name: "c.jsonl"), "--quiet"])
        let (rb, rc) = (b.wait(), c.wait())
        #expect(ra.status == 0, "\(ra)")
        // Both want ids 90…94: exactly one lands, the other re-reads the index and refuses.
        #expect([rb.status, rc.status].sorted() == [0, 1], "\(rb)\n\(rc)")
        var loser = rb.status == 0 ? rc : rb
        // It may have said that it waited for the other one first.
        loser.stderr = loser.stderrLines.filter { !$0.hasPrefix("semid: waiting for another semid process") }.joined(separator: "\n")
        Semid.expectFailure(loser, status: 1, mentions: ["item 90 already exists"])
        let winner = rb.status == 0 ? "B" : "C"
        try expectWhole(w.index, items: 95, sourceIDs: Set((80..<90).map { "A\($0)" } + (90..<95).map { "\(winner)\($0)" }))
    }

    @Test("train and users running while add commits: the index stays whole and later adds work")
    func trainAndUsersDuringAdd() throws {
        let w = try SafetyWorkspace()
        let train = try HostileRun.start(["train", w.index, "--sequences", w.sequences, "--epochs", "150", "--patience", "0",
                                          "--dim", "8", "--heads", "2", "--batch", "8", "--seed", "2", "--quiet"])
        let users = try HostileRun.start(["users", w.index, "--sequences", w.sequences, "--levels", "2", "--codebook-size", "4", "--quiet"])
        usleep(100_000)
        let add = try HostileRun.start(["add", w.index, "--embeddings", try w.newEmbeddings(10), "--quiet"])
        let results = [train.wait(), users.wait(), add.wait()]
        for r in results { #expect(r.exited && r.status == 0, "\(r)") }
        try expectWhole(w.index, items: 90)
        let opened = try IndexStore.open(at: w.index)
        #expect(opened.manifest.extensions?["users"] != nil, "the user IDs were lost")
        let again = try Semid.run(["add", w.index, "--embeddings", try w.newEmbeddings(3, seed: 4, name: "c.npy"), "--quiet"])
        #expect(again.status == 0, "\(again)")
        try expectWhole(w.index, items: 93)
    }

    @Test("a second writer waits with a message by default and fails at once with --no-wait")
    func waitingAndNoWait() throws {
        let w = try SafetyWorkspace()
        let train = try HostileRun.start(["train", w.index, "--sequences", w.sequences, "--epochs", "400", "--patience", "0",
                                          "--dim", "8", "--heads", "2", "--batch", "8", "--seed", "2", "--quiet"])
        usleep(400_000)
        let refused = try HostileRun.run(["add", w.index, "--embeddings", try w.newEmbeddings(4), "--no-wait", "--quiet"], timeout: 30)
        Semid.expectFailure(refused, status: 1, mentions: ["x.semid", "another semid process", "pid \(train.pid)"])
        let waiting = try HostileRun.start(["add", w.index, "--embeddings", try w.newEmbeddings(4), "--quiet"])
        usleep(400_000)
        #expect(waiting.stderrSoFar.contains("waiting"), "\(waiting.stderrSoFar)")
        // A killed writer releases the lock: the waiting add goes ahead on the old index.
        kill(train.pid, SIGKILL)
        _ = train.wait()
        let added = waiting.wait(timeout: 60)
        #expect(added.exited && added.status == 0, "\(added)")
        try expectWhole(w.index, items: 84)
    }

    @Test("readers during a stream of writes never fail")
    func readersDuringWrites() throws {
        let w = try SafetyWorkspace()
        let writes = 12
        for i in 0..<writes { try w.newEmbeddings(3, seed: UInt64(10 + i), name: "n\(i).npy") }
        let script = (0..<writes).map { "\"$0\" add \(w.index) --embeddings \(w.file("n\($0).npy")) --quiet || exit 1" }
            .joined(separator: "; ")
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/bash")
        writer.arguments = ["-c", script, TestPaths.semidBinary]
        try writer.run()
        var reads = 0
        var failures: [String] = []
        while writer.isRunning || reads < 6 {
            let commands: [[String]] = [
                ["inspect", w.index],
                ["export", w.index, "--format", "tsv", "--out", w.file("r.tsv"), "--force"],
                ["recommend", w.index, "--history", "1 2 3", "--top", "3"],
            ]
            let r = try Semid.run(commands[reads % commands.count])
            // recommend refuses once add has outdated the model; that is a correct answer, not a torn read.
            if r.status != 0 && !r.stderr.contains("run `semid train` again") { failures.append(r.stderr) }
            reads += 1
        }
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)
        #expect(failures.isEmpty, "\(failures.count) of \(reads) reads failed: \(failures.prefix(3))")
        try expectWhole(w.index, items: 80 + 3 * writes)
    }
}
