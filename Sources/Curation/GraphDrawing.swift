import Foundation

/// Draws an evidence graph as inline SVG (no Graphviz needed): one column
/// per layer, targets on the left, the patient's history on the right,
/// relation names on the edges; full names in tooltips.
public enum GraphDrawing {
    static let nodeWidth = 190, nodeHeight = 38, columnGap = 110, rowGap = 16, margin = 16
    /// Fill colours by role, for every drawing of a graph (SVG, Graphviz,
    /// Mermaid); the report's test looks for them in a screenshot.
    public static let fills: [EvidenceGraph.Role: String] = [.target: "#ffb74d", .history: "#81c784", .link: "#e3e3e3"]

    public static func svg(_ graph: EvidenceGraph) -> String {
        guard !graph.nodes.isEmpty else {
            return ##"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="40" class="graph empty"><text x="8" y="24" font-size="13" fill="#777">no relation paths</text></svg>"##
        }
        var rows: [Int: Int] = [:]
        var positions: [(x: Int, y: Int)] = []
        for node in graph.nodes {
            let row = rows[node.layer, default: 0]
            rows[node.layer] = row + 1
            positions.append((margin + node.layer * (nodeWidth + columnGap), margin + row * (nodeHeight + rowGap)))
        }
        let width = margin * 2 + ((graph.nodes.map(\.layer).max() ?? 0) + 1) * (nodeWidth + columnGap) - columnGap
        let height = margin * 2 + (rows.values.max() ?? 1) * (nodeHeight + rowGap) - rowGap
        var parts = [##"<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)" font-family="Helvetica, Arial, sans-serif">"##,
                     ##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#666"/></marker></defs>"##]
        for edge in graph.edges {
            let from = positions[edge.from], to = positions[edge.to]
            let forward = to.x > from.x
            let x1 = forward ? from.x + nodeWidth : from.x + nodeWidth / 2, y1 = forward ? from.y + nodeHeight / 2 : from.y + nodeHeight
            let x2 = forward ? to.x : to.x + nodeWidth / 2, y2 = forward ? to.y + nodeHeight / 2 : to.y
            let middle = ((x1 + x2) / 2, (y1 + y2) / 2)
            parts.append(##"<path d="M \##(x1) \##(y1) C \##((x1 + x2) / 2 + (forward ? 0 : 40)) \##(y1) \##((x1 + x2) / 2 + (forward ? 0 : 40)) \##(y2) \##(x2) \##(y2)" fill="none" stroke="#666" stroke-width="1.3" marker-end="url(#arrow)"/>"##)
            let label = clipped(edge.relation, 18)
            let labelWidth = label.count * 6 + 6
            parts.append(##"<rect x="\##(middle.0 - labelWidth / 2)" y="\##(middle.1 - 8)" width="\##(labelWidth)" height="14" rx="3" fill="#ffffff" opacity="0.9"/>"##)
            parts.append(##"<text x="\##(middle.0)" y="\##(middle.1 + 3)" font-size="10" fill="#444" text-anchor="middle">\##(HTML.escape(label))<title>\##(HTML.escape(edge.relation))</title></text>"##)
        }
        for (index, node) in graph.nodes.enumerated() {
            let (x, y) = positions[index]
            parts.append(##"<g class="node \##(node.role.rawValue)"><title>\##(HTML.escape(node.label)) (\##(HTML.escape(node.key)))</title>"##
                + ##"<rect x="\##(x)" y="\##(y)" width="\##(nodeWidth)" height="\##(nodeHeight)" rx="7" fill="\##(fills[node.role]!)" stroke="#555" stroke-width="0.8"/>"##
                + ##"<text x="\##(x + nodeWidth / 2)" y="\##(y + nodeHeight / 2 + 4)" font-size="11.5" text-anchor="middle">\##(HTML.escape(clipped(node.label, 29)))</text></g>"##)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    static func clipped(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}

/// HTML escaping for text and attribute values.
enum HTML {
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
