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
    /// from `catalog` for the TSV. Refuses a `path` inside an index directory (it would replace
    /// one of the index's files).
    public static func write(ids: CodeMatrix, catalog: [CatalogItem], format: ExportFormat, to path: String) throws {
        try IndexStore.refuseOutputInsideIndex(path)
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

    /// A TSV field: backslash, tab, newline, carriage return and NUL written as `\\`, `\t`,
    /// `\n`, `\r` and `\0` (the escapes of PostgreSQL's text format and MySQL's TSV), so every
    /// line has exactly one field per column and the original text can be restored.
    static func tsvEscaped(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0 }) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\u{0}": out += "\\0"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
