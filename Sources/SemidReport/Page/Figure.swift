/// One plot on the page: a title, the SVG, and a one-line reading of what it shows and what it
/// helps decide.
struct Figure {
    /// A stable identifier (`data-plot`), e.g. `"usage-level-1"`.
    var id: String
    /// The heading.
    var title: String
    /// The SVG markup.
    var svg: String
    /// The reading, plain text (escaped when rendered).
    var reading: String
    /// Whether the figure should span the full width of the grid (wide heat maps, tables).
    var wide = false

    /// The `<figure>` element.
    var html: String {
        "<figure class=\"card\(wide ? " wide" : "")\" data-plot=\"\(Markup.escape(id))\"><h3>\(Markup.escape(title))</h3>\(svg)"
            + "<p class=\"reading\">\(Markup.escape(reading))</p></figure>"
    }
}

/// A card with a title and HTML content that is not a plot (a table, or a note on why a plot is absent).
struct Card {
    /// The heading.
    var title: String
    /// The content, already HTML.
    var html: String
    /// Whether it spans the full width.
    var wide = false
    /// Whether it starts a new row of the grid (the first of several per-index tables, so that
    /// they stand side by side).
    var newRow = false

    /// The card element.
    var rendered: String {
        "<div class=\"card\(wide ? " wide" : "")\(newRow ? " new-row" : "")\"><h3>\(Markup.escape(title))</h3>\(html)</div>"
    }

    /// A card explaining why a plot is not shown.
    static func note(_ title: String, _ text: String) -> Card {
        Card(title: title, html: "<p class=\"note\">\(Markup.escape(text))</p>")
    }
}

/// A section of the page: a heading, a sentence on what it answers, and its figures and cards.
struct Section {
    /// The anchor (`id`).
    var id: String
    /// The heading.
    var title: String
    /// What the section answers, plain text.
    var intro: String
    /// Figures and cards, HTML, in order.
    var parts: [String]

    /// The `<section>` element.
    var html: String {
        "<section id=\"\(Markup.escape(id))\"><h2>\(Markup.escape(title))</h2><p class=\"intro\">\(Markup.escape(intro))</p>"
            + "<div class=\"grid\">" + parts.joined() + "</div></section>"
    }
}

/// HTML snippets shared by the sections.
enum HTML {
    /// A small coloured square for index `slot`, as in the plots' legends.
    static func swatch(_ slot: Int) -> String {
        "<span class=\"swatch\" style=\"background:\(Palette.color(slot))\"></span>"
    }

    /// An index's name with its swatch.
    static func indexLabel(_ name: String, slot: Int) -> String {
        swatch(slot) + Markup.escape(name)
    }

    /// Longest title shown in tables (longer ones are cut, with the full title as a tooltip).
    static let titleLength = 90

    /// A catalog title for a table cell: escaped, cut at ``titleLength`` characters, or a muted
    /// "(empty title)" / "(no title)".
    static func title(_ title: String?) -> String {
        guard let title else { return "<span class=\"muted\">(no title)</span>" }
        if title.isEmpty { return "<span class=\"muted\">(empty title)</span>" }
        guard title.count > titleLength else { return Markup.escape(title) }
        return "<span title=\"\(Markup.escape(title))\">\(Markup.escape(String(title.prefix(titleLength - 1))))…</span>"
    }

    /// A semantic ID as `12-7-201-0`.
    static func id(_ codes: [Int32]) -> String { codes.map(String.init).joined(separator: "-") }

    /// A table: `header` and `rows` cells are HTML; columns in `numeric` are right-aligned.
    static func table(header: [String], rows: [[String]], numeric: Set<Int> = [], classes: String = "") -> String {
        func cell(_ tag: String, _ i: Int, _ content: String) -> String {
            "<\(tag)\(numeric.contains(i) ? " class=\"num\"" : "")>\(content)</\(tag)>"
        }
        var out = "<table class=\"\(classes)\"><thead><tr>"
        out += header.enumerated().map { cell("th", $0, $1) }.joined() + "</tr></thead><tbody>"
        for row in rows { out += "<tr>" + row.enumerated().map { cell("td", $0, $1) }.joined() + "</tr>" }
        return out + "</tbody></table>"
    }
}
