/// The page's only stylesheet, inlined in `<head>`: system fonts, a grid of cards, and the SVG
/// classes the plotting code uses (`tick`, `axis-title`, `legend`, `grid`, `axis`, …).
enum PageStyle {
    static let css = """
    :root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; --accent: #0072B2; }
    * { box-sizing: border-box; }
    body { margin: 0; background: var(--bg); color: var(--ink);
           font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; }
    header { background: #fff; border-bottom: 1px solid var(--line); padding: 18px 28px 10px; }
    header h1 { margin: 0 0 4px; font-size: 22px; }
    header .indexes { margin: 6px 0; display: flex; flex-wrap: wrap; gap: 6px 22px; }
    header .indexes code { color: var(--muted); font-size: 12px; }
    nav { margin-top: 8px; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; }
    nav a { color: var(--accent); text-decoration: none; }
    nav a:hover { text-decoration: underline; }
    main { max-width: 1360px; margin: 0 auto; padding: 8px 24px 40px; }
    section { margin-top: 22px; }
    h2 { font-size: 18px; margin: 0 0 2px; padding-top: 6px; border-top: 2px solid var(--line); }
    p.intro { margin: 2px 0 10px; color: var(--muted); }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 14px; align-items: start; }
    .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px 10px; margin: 0; min-width: 0; }
    .card.wide { grid-column: 1 / -1; }
    .card.new-row { grid-column-start: 1; }
    .card h3 { font-size: 14.5px; margin: 0 0 6px; }
    .card svg.plot { display: block; width: 100%; height: auto; max-height: 460px; }
    p.reading { margin: 6px 0 0; padding: 4px 0 2px 10px; border-left: 3px solid var(--accent); font-size: 13px; }
    p.note { margin: 4px 0; color: var(--muted); }
    .muted { color: var(--muted); }
    .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
    table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 6px; }
    table.figures td.num, table.figures th.num { padding-left: 28px; }
    th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
    th { background: var(--bg); font-weight: 600; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    table.figures td:first-child { color: var(--muted); white-space: nowrap; }
    table.groups td:nth-child(3), table.worst td:nth-child(2) { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; white-space: nowrap; }
    table.groups td:first-child { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; white-space: nowrap; }
    table.groups tr:has(td:first-child b) td { border-top: 1px solid #c8d1da; }
    details { margin-top: 6px; }
    details > summary { cursor: pointer; color: var(--accent); font-size: 13px; }
    footer { max-width: 1360px; margin: 0 auto; padding: 0 24px 30px; color: var(--muted); font-size: 12px; }
    svg text { font-family: inherit; }
    svg .tick { font-size: 11px; fill: #57606a; }
    svg .axis-title { font-size: 12px; fill: #1f2328; }
    svg .legend { font-size: 12px; fill: #1f2328; }
    svg .value { font-size: 10px; fill: #57606a; }
    svg .rule-label, svg .value { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
    svg .rule-label { font-size: 11px; }
    svg .empty { font-size: 14px; fill: #8c959f; }
    svg .grid { stroke: #e4e7eb; stroke-width: 1; }
    svg .axis { stroke: #8c959f; stroke-width: 1; }
    svg .hit:hover { fill: rgba(0, 0, 0, 0.06); }
    svg .cell:hover, svg .bar:hover { stroke: #1f2328; stroke-width: 1; }
    @media print { body { background: #fff; } .card { break-inside: avoid; } nav { display: none; } }
    """
}
