import Foundation
import TGSupport

/// The output formats of `thinkgraph inspect`.
public enum ExampleFormat: String, CaseIterable, Sendable {
    case text, json, dot, mermaid

    public func render(_ example: Example) -> String {
        switch self {
        case .text: return Self.text(example)
        case .json: return example.json.jsonText
        case .dot: return Self.dot(example)
        case .mermaid: return Self.mermaid(example)
        }
    }

    static func text(_ example: Example) -> String {
        var lines: [String] = []
        lines.append("sample \(example.id)")
        lines.append("task: \(example.task)")
        if !example.instruction.isEmpty { lines.append("instruction: \(example.instruction)") }
        lines.append("targets:")
        lines += example.targets.map { "  - \($0)" }
        lines.append("")
        lines.append("context (as the model read it):")
        lines += example.context.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        lines.append("")
        lines.append("evidence: \(example.evidenceStatus ?? "not run")")
        if !example.pairs.isEmpty {
            lines.append("concept pairs (target <- history: count, lift):")
            let names = example.names
            func named(_ concept: String) -> String { names[concept].map { "\(concept) (\($0))" } ?? concept }
            lines += example.pairs.map { "  \(named($0.target)) <- \(named($0.history)): \($0.count), lift \(String(format: "%.2f", $0.lift))" }
        }
        if !example.paths.isEmpty {
            lines.append("relation paths:")
            lines += example.paths.map { "  [\($0.hops) hops] \($0.line)" }
        }
        if example.droppedPaths > 0 { lines.append("  (\(example.droppedPaths) paths left out to fit the model's context)") }
        lines.append("")
        var status = "reasoning: \(example.reasoningStatus ?? "not run")"
        if let model = example.model { status += " (\(model))" }
        if let error = example.reasoningError { status += ": \(error)" }
        lines.append(status)
        for (index, chain) in example.chains.enumerated() {
            let verdict: String
            switch chain.kept {
            case true?: verdict = "kept"
            case false?: verdict = "rejected: " + chain.reasons.joined(separator: "; ")
            case nil: verdict = "not filtered yet"
            }
            lines.append("chain \(index + 1) (finish_reason \(chain.finishReason)) — \(verdict)")
            lines += chain.text.split(separator: "\n", omittingEmptySubsequences: false).map { "  | " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Graphviz: targets, history and linking concepts in three styles,
    /// relations as edge labels.
    static func dot(_ example: Example) -> String {
        let graph = EvidenceGraph(paths: example.paths)
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = ["digraph evidence {", "  label=\(quoted(example.id + " (" + example.task + ")"));", "  rankdir=LR;",
                     "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];"]
        for (index, node) in graph.nodes.enumerated() {
            let fill = GraphDrawing.fills[node.role]!
            lines.append("  n\(index) [label=\(quoted(node.label)), tooltip=\(quoted(node.key)), fillcolor=\"\(fill)\"];")
        }
        for edge in graph.edges {
            lines.append("  n\(edge.from) -> n\(edge.to) [label=\(quoted(edge.relation))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Mermaid flowchart, for Markdown viewers.
    static func mermaid(_ example: Example) -> String {
        let graph = EvidenceGraph(paths: example.paths)
        func label(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "#quot;") + "\"" }
        var lines = ["flowchart LR"]
        for (index, node) in graph.nodes.enumerated() {
            lines.append("  n\(index)[\(label(node.label))]:::\(node.role.rawValue)")
        }
        for edge in graph.edges {
            lines.append("  n\(edge.from) -->|\(label(edge.relation))| n\(edge.to)")
        }
        lines += EvidenceGraph.Role.allCases.map { "  classDef \($0.rawValue) fill:\(GraphDrawing.fills[$0]!)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
