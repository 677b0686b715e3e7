/// A self-contained HTML page: inline style, no scripts, no external
/// resources, so the file can be mailed or archived and opened offline.
struct Page {
    var title: String
    private var body: [String] = []

    init(title: String) { self.title = title }

    mutating func add(_ html: String) { body.append(html) }

    mutating func table(_ header: [String], _ rows: [[String]]) {
        var html = "<table><thead><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows { html += "<tr>" + row.map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>" }
        add(html + "</tbody></table>")
    }

    var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1280px; color: #222; padding: 0 16px; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        h3 { font-size: 14px; margin: 12px 0 6px; } .muted { color: #666; font-size: 13px; }
        table { border-collapse: collapse; font-size: 13px; margin: 8px 0; } th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
        th { background: #f5f5f5; } code { font-size: 12px; } .row { display: flex; flex-wrap: wrap; gap: 32px; }
        .example { border: 1px solid #ccc; border-radius: 8px; padding: 12px 16px; margin: 18px 0; }
        .example .columns { display: flex; gap: 20px; flex-wrap: wrap; } .example .graphbox { overflow-x: auto; max-width: 100%; }
        .chain { white-space: pre-wrap; font-size: 12.5px; background: #fafafa; border-left: 3px solid #bbb; padding: 6px 10px; max-width: 560px; }
        .kept { color: #1b5e20; font-weight: bold; } .rejected { color: #b71c1c; font-weight: bold; }
        .context { white-space: pre-wrap; font-size: 12px; max-height: 360px; overflow-y: auto; background: #fcfcfc; border: 1px solid #eee; padding: 6px; }
        .context mark { background: #fff59d; }
        </style></head><body>
        \(body.joined(separator: "\n"))
        </body></html>

        """
    }
}

/// Bar charts as inline SVG.
enum Charts {
    static func bars(_ data: [(String, Int)], horizontal: Bool = false) -> String {
        guard let most = data.map(\.1).max(), most > 0 else { return "<p class=\"muted\">nothing to count</p>" }
        if horizontal {
            let rowHeight = 20, labelWidth = 260, barWidth = 240
            let height = data.count * rowHeight + 8
            var parts = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(labelWidth + barWidth + 60)" height="\##(height)" font-size="11" font-family="Helvetica, Arial, sans-serif">"##]
            for (index, (label, count)) in data.enumerated() {
                let y = 4 + index * rowHeight
                let width = max(1, count * barWidth / most)
                parts.append(##"<text x="\##(labelWidth - 6)" y="\##(y + 13)" text-anchor="end">\##(HTML.escape(GraphDrawing.clipped(label, 44)))<title>\##(HTML.escape(label))</title></text>"##)
                parts.append(##"<rect x="\##(labelWidth)" y="\##(y + 2)" width="\##(width)" height="\##(rowHeight - 6)" fill="#5c8dd6"/>"##)
                parts.append(##"<text x="\##(labelWidth + width + 4)" y="\##(y + 13)">\##(count)</text>"##)
            }
            return (parts + ["</svg>"]).joined(separator: "\n")
        }
        let columnWidth = 44, chartHeight = 120
        let width = data.count * columnWidth + 20
        var parts = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(chartHeight + 40)" font-size="11" font-family="Helvetica, Arial, sans-serif">"##]
        for (index, (label, count)) in data.enumerated() {
            let x = 10 + index * columnWidth
            let height = count == 0 ? 0 : max(1, count * chartHeight / most)
            parts.append(##"<rect x="\##(x + 4)" y="\##(chartHeight + 14 - height)" width="\##(columnWidth - 8)" height="\##(height)" fill="#5c8dd6"/>"##)
            parts.append(##"<text x="\##(x + columnWidth / 2)" y="\##(chartHeight + 10 - height)" text-anchor="middle">\##(count)</text>"##)
            parts.append(##"<text x="\##(x + columnWidth / 2)" y="\##(chartHeight + 30)" text-anchor="middle">\##(HTML.escape(label))</text>"##)
        }
        return (parts + ["</svg>"]).joined(separator: "\n")
    }
}
