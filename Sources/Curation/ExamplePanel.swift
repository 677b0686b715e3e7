import Foundation

/// One example in the report: its evidence graph beside the chain that used
/// it (the first kept chain, else the first), and the context with the
/// events the chain cites highlighted.
enum ExamplePanel {
    static func html(_ example: Example) -> String {
        let chain = example.chains.first { $0.kept == true } ?? example.chains.first
        var parts = ["<div class=\"example\" id=\"\(HTML.escape(example.id))\">",
                     "<h3>\(HTML.escape(example.id)) — \(HTML.escape(example.task))</h3>",
                     "<p class=\"muted\">Targets: \(HTML.escape(example.targets.joined(separator: "; ")))</p>",
                     "<div class=\"columns\"><div class=\"graphbox\">\(GraphDrawing.svg(EvidenceGraph(paths: example.paths)))</div>"]
        if let chain {
            let verdict: String
            switch chain.kept {
            case true?: verdict = "<span class=\"kept\">kept</span>"
            case false?: verdict = "<span class=\"rejected\">rejected</span>: " + HTML.escape(chain.reasons.joined(separator: "; "))
            case nil: verdict = "not filtered yet"
            }
            parts.append("<div><p>Chain 1 of \(example.chains.count) (\(HTML.escape(example.model ?? "model"))): \(verdict)</p>"
                         + "<div class=\"chain\">\(HTML.escape(chain.text))</div></div>")
        } else {
            parts.append("<div><p class=\"muted\">No chain: reasoning \(HTML.escape(example.reasoningStatus ?? "not run"))"
                         + "\(example.reasoningError.map { ": " + HTML.escape($0) } ?? "").</p></div>")
        }
        parts.append("</div>")
        parts.append("<details open><summary>Context the model read (cited events highlighted)</summary><div class=\"context\">"
                     + highlighted(example.context, cited: chain?.citedEvents ?? []) + "</div></details>")
        parts.append("</div>")
        return parts.joined(separator: "\n")
    }

    /// The context with each event block (from its `## Name [time]` header
    /// to the next) marked when the chain cites its time (to the minute).
    static func highlighted(_ context: String, cited: [(name: String, time: String)]) -> String {
        let times = Set(cited.map { String($0.time.prefix(16)) })
        var blocks: [(text: String, cited: Bool)] = []
        for line in context.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") || blocks.isEmpty {
                var isCited = false
                if let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") {
                    isCited = times.contains(String(line[line.index(after: open)..<close].prefix(16)))
                }
                blocks.append((String(line), isCited))
            } else {
                blocks[blocks.count - 1].text += "\n" + line
            }
        }
        return blocks.map { $0.cited ? "<mark>" + HTML.escape($0.text) + "</mark>" : HTML.escape($0.text) }.joined(separator: "\n")
    }
}
