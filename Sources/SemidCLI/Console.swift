import Foundation
import Semid

/// Where the command-line tool writes: results to stdout, progress and errors to stderr.
enum Console {
    /// Whether stderr is a terminal (progress is shown only then).
    static let stderrIsTerminal: Bool = isatty(STDERR_FILENO) != 0

    /// Writes `text` and a newline to stdout.
    static func out(_ text: String = "") {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes `text` and a newline to stderr.
    static func err(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// A progress handler that redraws one status line on stderr when it is a terminal and stays
    /// silent otherwise (or when `quiet`).
    static func progress(quiet: Bool) -> ProgressHandler? {
        guard !quiet, stderrIsTerminal else { return nil }
        let start = Date()
        return { event in
            var line = event.stage
            if event.total > 0 { line += " \(event.step)/\(event.total)" } else if event.step > 0 { line += " \(event.step)" }
            if !event.detail.isEmpty { line += "  " + event.detail }
            line += String(format: "  [%.1fs]", Date().timeIntervalSince(start))
            let text = "\r\u{1B}[K" + line + (event.finished ? "\n" : "")
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}

/// Fixed-width text tables for terminal output.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns aligned to the right (numbers).
    var rightAligned: Set<Int> = []

    init(_ header: [String], rightAligned: Set<Int>? = nil) {
        self.header = header
        self.rightAligned = rightAligned ?? Set(1..<header.count)
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// Number formatting for reports.
enum Format {
    static func fixed(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
    static func percent(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f%%", x * 100) }
    static func seconds(_ x: Double) -> String { x < 1 ? String(format: "%.0f ms", x * 1000) : String(format: "%.2f s", x) }
}
