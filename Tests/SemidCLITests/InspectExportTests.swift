import Foundation
import SemidIndex
import SemidStorage
import SemidTestSupport
import Testing

/// Typed access into parsed JSON, recording an issue naming the key path when a value is missing
/// or has another type.
struct JSONPath {
    /// The value at this path, if any.
    var value: Any?
    /// The path so far, for messages (`raw.distinct_ids`).
    var path: String

    /// The member `key` of an object.
    subscript(key: String) -> JSONPath {
        JSONPath(value: (value as? [String: Any])?[key], path: path.isEmpty ? key : path + "." + key)
    }

    /// The keys of an object (empty if this is not an object).
    var keys: Set<String> { Set((value as? [String: Any])?.keys.map { $0 } ?? []) }

    /// The elements of an array.
    func array(sourceLocation: SourceLocation = #_sourceLocation) -> [JSONPath] {
        guard let items = value as? [Any] else {
            Issue.record("\(path) is not an array: \(String(describing: value))", sourceLocation: sourceLocation)
            return []
        }
        return items.enumerated().map { JSONPath(value: $1, path: "\(path)[\($0)]") }
    }

    /// An integer (a JSON number without a fraction).
    func int(sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        guard let n = value as? NSNumber, let i = Int(exactly: n.doubleValue) else {
            Issue.record("\(path) is not an integer: \(String(describing: value))", sourceLocation: sourceLocation)
            return Int.min
        }
        return i
    }

    /// Any JSON number.
    func double(sourceLocation: SourceLocation = #_sourceLocation) -> Double {
        guard let n = value as? NSNumber else {
            Issue.record("\(path) is not a number: \(String(describing: value))", sourceLocation: sourceLocation)
            return .nan
        }
        return n.doubleValue
    }

    /// A string.
    func string(sourceLocation: SourceLocation = #_sourceLocation) -> String {
        guard let s = value as? String else {
            Issue.record("\(path) is not a string: \(String(describing: value))", sourceLocation: sourceLocation)
            return ""
        }
        return s
    }
}

/// Checks the `inspect --json` schema and its internal consistency; returns the parsed report.
///
/// Required: `items, levels, codebook_size, id_length, collision_policy`,
/// `raw{distinct_ids, collision_rate, items_in_collisions, max_group}`,
/// `final{distinct_ids, collision_rate, max_group}`,
/// `per_level[{level, used_codes, utilization, perplexity, dead_codes}]`, `reconstruction{relative_mse}`,
/// with `collision_rate = (items − distinct_ids) / items`.
@discardableResult
func checkInspectSchema(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONPath {
    let root = JSONPath(value: try parseJSON(json), path: "")
    let required: Set<String> = ["items", "levels", "codebook_size", "id_length", "collision_policy", "raw", "final",
                                 "per_level", "reconstruction"]
    #expect(required.isSubset(of: root.keys), "missing keys: \(required.subtracting(root.keys))", sourceLocation: sourceLocation)
    #expect(Set(["distinct_ids", "collision_rate", "items_in_collisions", "max_group"]).isSubset(of: root["raw"].keys),
            sourceLocation: sourceLocation)
    #expect(Set(["distinct_ids", "collision_rate", "max_group"]).isSubset(of: root["final"].keys), sourceLocation: sourceLocation)
    #expect(root["reconstruction"].keys.contains("relative_mse"), sourceLocation: sourceLocation)

    let items = root["items"].int(sourceLocation: sourceLocation)
    let k = root["codebook_size"].int(sourceLocation: sourceLocation)
    let levels = root["levels"].int(sourceLocation: sourceLocation)
    let policy = root["collision_policy"].string(sourceLocation: sourceLocation)
    #expect(["none", "suffix"].contains(policy), sourceLocation: sourceLocation)
    #expect(root["id_length"].int(sourceLocation: sourceLocation) == levels + (policy == "suffix" ? 1 : 0),
            sourceLocation: sourceLocation)
    for part in ["raw", "final"] {
        let distinct = root[part]["distinct_ids"].int(sourceLocation: sourceLocation)
        let rate = root[part]["collision_rate"].double(sourceLocation: sourceLocation)
        #expect(distinct >= 1 && distinct <= items, sourceLocation: sourceLocation)
        #expect(abs(rate - Double(items - distinct) / Double(items)) < 1e-12, "\(part).collision_rate", sourceLocation: sourceLocation)
        let maxGroup = root[part]["max_group"].int(sourceLocation: sourceLocation)
        #expect(maxGroup >= 1 && maxGroup <= items - distinct + 1, sourceLocation: sourceLocation)
    }
    let inCollisions = root["raw"]["items_in_collisions"].int(sourceLocation: sourceLocation)
    #expect(inCollisions >= 0 && inCollisions <= items, sourceLocation: sourceLocation)

    let perLevel = root["per_level"].array(sourceLocation: sourceLocation)
    #expect(perLevel.count == levels, "one entry per quantizer level, not for the suffix", sourceLocation: sourceLocation)
    for (i, level) in perLevel.enumerated() {
        #expect(Set(["level", "used_codes", "utilization", "perplexity", "dead_codes"]).isSubset(of: level.keys),
                sourceLocation: sourceLocation)
        #expect(level["level"].int(sourceLocation: sourceLocation) == i + 1, sourceLocation: sourceLocation)
        let used = level["used_codes"].int(sourceLocation: sourceLocation)
        #expect(used >= 1 && used <= k, sourceLocation: sourceLocation)
        #expect(abs(level["utilization"].double(sourceLocation: sourceLocation) - Double(used) / Double(k)) < 1e-12,
                sourceLocation: sourceLocation)
        #expect(level["dead_codes"].int(sourceLocation: sourceLocation) == k - used, sourceLocation: sourceLocation)
        let perplexity = level["perplexity"].double(sourceLocation: sourceLocation)
        #expect(perplexity >= 1 && perplexity <= Double(used) + 1e-9, sourceLocation: sourceLocation)
    }
    let relativeMSE = root["reconstruction"]["relative_mse"].double(sourceLocation: sourceLocation)
    #expect(relativeMSE >= 0 && relativeMSE < 1, sourceLocation: sourceLocation)
    return root
}

@Suite("semid inspect and export (real binary)")
struct InspectExportTests {
    /// Builds the standard synthetic index (with items) into `dir` and returns its path.
    static func buildIndex(in dir: borrowing TemporaryDirectory, extra: [String] = []) throws -> String {
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let items = try dir.write(Fixture.itemsFile, to: "items.jsonl")
        let out = dir.file("idx.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--items", items, "--out", out] + Fixture.smallBuild + extra)
        return out
    }

    @Test("inspect --json has the documented keys, and its figures match the stored codes")
    func inspectJSON() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.buildIndex(in: dir)
        let result = try Semid.succeed(["inspect", "--json", path])
        #expect(result.stderr.isEmpty)
        let report = try checkInspectSchema(result.stdout)
        #expect(report["items"].int() == 300 && report["levels"].int() == 3 && report["codebook_size"].int() == 8)
        #expect(report["id_length"].int() == 4 && report["collision_policy"].string() == "suffix")

        // Recount from the stored codes, independently of CollisionReport.
        let index = try IndexStore.open(at: path)
        var groups: [[Int32]: Int] = [:]
        for i in 0..<300 { groups[Array(index.rawCodes.row(i)), default: 0] += 1 }
        #expect(report["raw"]["distinct_ids"].int() == groups.count)
        #expect(report["raw"]["max_group"].int() == groups.values.max())
        #expect(report["raw"]["items_in_collisions"].int() == groups.values.filter { $0 > 1 }.reduce(0, +))
        #expect(groups.count < 300, "the fixture has raw collisions")
        #expect(report["final"]["distinct_ids"].int() == 300 && report["final"]["collision_rate"].double() == 0)
        #expect(report["final"]["max_group"].int() == 1)
        let levels = report["per_level"].array()
        for (l, level) in levels.enumerated() {
            let used = Set((0..<300).map { index.rawCodes[$0, l] }).count
            #expect(level["used_codes"].int() == used)
        }
        #expect(report["suffix_size"].int() == groups.values.max())
    }

    @Test("inspect --json with --collisions none reports the raw collisions as final")
    func inspectNone() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.buildIndex(in: dir, extra: ["--collisions", "none"])
        let report = try checkInspectSchema(try Semid.succeed(["inspect", "--json", path]).stdout)
        #expect(report["id_length"].int() == 3 && report["collision_policy"].string() == "none")
        #expect(report["final"]["distinct_ids"].int() == report["raw"]["distinct_ids"].int())
        #expect(report["final"]["collision_rate"].double() > 0)
    }

    @Test("inspect without --json prints the human-readable report")
    func inspectText() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.buildIndex(in: dir)
        let text = try Semid.succeed(["inspect", path]).stdout
        #expect(text.hasPrefix("index      300 items, rq-kmeans 3 levels × 8 codes, d = 16, content vectors, seed 0\n"))
        #expect(text.contains("IDs        length 4, policy suffix"))
        #expect(text.contains("final      300 distinct IDs, collision rate 0.00%, largest group 1"))
    }

    /// The final IDs and catalog of the index at `path`, read in-process.
    static func stored(_ path: String) throws -> (ids: [[Int32]], catalog: [CatalogItem]) {
        let index = try IndexStore.open(at: path)
        return ((0..<index.itemCount).map { Array(index.ids.row($0)) }, try index.catalog().allItems())
    }

    @Test("export --format lcrec: LC-Rec index JSON matching the catalog")
    func exportLCRec() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.buildIndex(in: dir)
        let out = dir.file("beauty.index.json")
        let result = try Semid.succeed(["export", path, "--format", "lcrec", "--out", out])
        #expect(result.stdout == "wrote 300 IDs of length 4 to \(out)\n")
        let json = try #require(try parseJSON(String(contentsOfFile: out, encoding: .utf8)) as? [String: [String]])
        let (ids, catalog) = try Self.stored(path)
        #expect(json.count == 300)
        #expect(Set(json.keys) == Set((0..<300).map(String.init)))
        for item in catalog {
            let expected = ["a", "b", "c", "d"].enumerated().map { "<\($1)_\(item.semanticID[$0])>" }
            #expect(json[String(item.id)] == expected, "item \(item.id)")
            #expect(item.semanticID == ids[item.id])
        }
        #expect(Set(json.values).count == 300, "token sequences are unique")
    }

    @Test("export --format tsv: a header and one row per item with source id and codes")
    func exportTSV() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.buildIndex(in: dir)
        let out = dir.file("ids.tsv")
        try Semid.succeed(["export", path, "--format", "tsv", "--out", out])
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines.first == "item\tsource_id\tc0\tc1\tc2\tc3")
        let (ids, catalog) = try Self.stored(path)
        #expect(lines.count == 301)
        for item in catalog {
            let expected = ["\(item.id)", item.sourceID ?? ""] + ids[item.id].map(String.init)
            #expect(lines[item.id + 1] == expected.joined(separator: "\t"))
        }
    }

    @Test("export --format npy: int32 [items, id_length], readable by NpyFile and by NumPy")
    func exportNpy() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.buildIndex(in: dir)
        let out = dir.file("ids.npy")
        try Semid.succeed(["export", path, "--format", "npy", "--out", out])
        let (ids, _) = try Self.stored(path)
        let read = try NpyFile.readInt32Matrix(at: out)
        #expect(read.rows == 300 && read.cols == 4)
        #expect(read.values == ids.flatMap { $0 })
        let header = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)).prefix(80), as: UTF8.self)
        #expect(header.contains("'descr': '<i4'") && header.contains("'shape': (300, 4)"))

        guard PythonNumPy.isAvailable else { return }  // NumPy cross-check only where python3 has numpy
        let printed = try PythonNumPy.run(
            "import sys, json, numpy as np; a = np.load(sys.argv[1]); print(a.dtype.str, list(a.shape), json.dumps(a.tolist()))",
            arguments: [out])
        let parts = printed.split(separator: " ", maxSplits: 3).map(String.init)
        #expect(parts.count == 4)
        #expect(parts.first == "<i4" && parts.dropFirst().prefix(2).joined(separator: " ") == "[300, 4]")
        if parts.count == 4 {
            let values = try #require(try parseJSON(parts[3]) as? [[Int]])
            #expect(values == ids.map { $0.map(Int.init) })
        }
    }
}
