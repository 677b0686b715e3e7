import TGSupport

/// What `evidence bench` measures on: a random graph of a given size (for
/// UMLS-scale runs without UMLS) and random pairs of connected concepts,
/// both drawn from one seeded generator so a run can be repeated.
public enum SearchBench {
    /// A generated graph's labels: four relations and their inverses.
    public static let generatedLabels = ["isa", "inverse_isa", "may_treat", "may_be_treated_by", "associated_with",
                                         "inverse_associated_with", "part_of", "has_part"]

    /// Writes a graph of `nodes` nodes and about `edges` edges (each random
    /// statement stored both ways, as the importers store them) to `path`.
    public static func writeRandomGraph(nodes: Int, edges count: Int, random: inout SplitMix64, to path: String) throws {
        var edges: [(from: Int, to: Int, label: Int)] = []
        edges.reserveCapacity(count + 1)
        while edges.count < count {
            let from = Int(random.next() % UInt64(nodes)), to = Int(random.next() % UInt64(nodes))
            let label = Int(random.next() % 4) * 2
            edges.append((from, to, label))
            edges.append((to, from, label + 1))
        }
        try RelationGraph.write(nodes: nodes, edges: edges, labels: generatedLabels, to: path)
    }

    /// `count` pairs of distinct nodes that both have edges.
    public static func randomPairs(in graph: RelationGraph, count: Int, random: inout SplitMix64) -> [(Int, Int)] {
        var chosen: [(Int, Int)] = []
        guard graph.nodeCount > 1, (0..<graph.nodeCount).contains(where: { !graph.edges(of: $0).isEmpty }) else { return [] }
        while chosen.count < count {
            let a = Int(random.next() % UInt64(graph.nodeCount)), b = Int(random.next() % UInt64(graph.nodeCount))
            if a != b, !graph.edges(of: a).isEmpty, !graph.edges(of: b).isEmpty { chosen.append((a, b)) }
        }
        return chosen
    }
}
