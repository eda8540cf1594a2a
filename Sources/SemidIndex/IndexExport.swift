import Foundation
import SemidQuantization
import SemidStorage

/// Export formats for the final semantic IDs of an index.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// LC-Rec's `*.index.json`: `{"0": ["<a_12>", "<b_7>", "<c_201>", "<d_0>"], …}`, one letter per position.
    case lcrec
    /// Tab-separated `item  source_id  c0  c1 …` with a header line.
    case tsv
    /// NumPy `int32` array `[items, id_length]`.
    case npy
}

/// Writes the final IDs of an index in LLM-pipeline and analysis formats.
public enum IndexExport {
    /// The token of code `code` at ID position `position`: `<a_12>` (positions a…z, then `<p26_3>` beyond).
    public static func token(position: Int, code: Int32) -> String {
        TokenTemplate.lcrec.token(position: position, code: Int(code))
    }

    /// Writes `ids` (`[n, idLength]`, row = item) to `path` atomically in `format`; source ids come
    /// from `catalog` for the TSV.
    public static func write(ids: CodeMatrix, catalog: [CatalogItem], format: ExportFormat, to path: String) throws {
        switch format {
        case .npy:
            try NpyFile.write(int32: ids.values, rows: ids.rows, cols: ids.levels, to: path)
        case .lcrec:
            var out = "{\n"
            for i in 0..<ids.rows {
                let tokens = (0..<ids.levels).map { "\"" + token(position: $0, code: ids[i, $0]) + "\"" }
                out += "  \"\(i)\": [" + tokens.joined(separator: ", ") + "]" + (i + 1 < ids.rows ? ",\n" : "\n")
            }
            out += "}\n"
            try FileSystem.writeAtomically(Array(out.utf8), to: path)
        case .tsv:
            var out = "item\tsource_id\t" + (0..<ids.levels).map { "c\($0)" }.joined(separator: "\t") + "\n"
            let sources = Dictionary(uniqueKeysWithValues: catalog.map { ($0.id, $0.sourceID) })
            for i in 0..<ids.rows {
                let source = (sources[i] ?? nil).map(tsvEscaped) ?? ""
                out += "\(i)\t\(source)\t" + (0..<ids.levels).map { String(ids[i, $0]) }.joined(separator: "\t") + "\n"
            }
            try FileSystem.writeAtomically(Array(out.utf8), to: path)
        }
    }

    static func tsvEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
}
