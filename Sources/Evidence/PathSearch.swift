/// Shortest relation paths between two concepts by bidirectional
/// breadth-first search (REFERENCE §1, stage 3).
///
/// Both ends grow one whole layer at a time, the smaller frontier first;
/// when the layers meet, the meeting paths are assembled and a path whose
/// consecutive relations merely undo each other (`isa` then `inverse_isa`,
/// PAR then CHD, RB then RN: a step up and straight down again) is
/// rejected. Limits: `maxHops` edges, `maxPaths` paths assembled,
/// `maxExplored` nodes reached. Edges with a skipped label are never
/// followed. Deterministic: frontiers are arrays in discovery order and a
/// node's edges are in target order, so the same graph and pair always give
/// the same path.
public struct PathSearch: Sendable {
    public let graph: RelationGraph
    public var maxHops = 10
    public var maxPaths = 10
    public var maxExplored = 2000
    /// Label ids never followed.
    public var skipped: Set<Int>
    /// Label id → the id of its inverse label, if the graph has it.
    private let inverse: [Int?]

    /// The relations EHR-R1 skips as uninformative.
    public static let referenceSkipped = ["subset_includes_concept", "concept_in_subset", "has_contraindicated_drug",
                                          "contraindicated_with_disease"]

    public init(graph: RelationGraph, skipping names: [String] = PathSearch.referenceSkipped) {
        self.graph = graph
        skipped = Set(names.compactMap(graph.labelID))
        inverse = graph.labels.map { name in
            let pairs = ["PAR": "CHD", "CHD": "PAR", "RB": "RN", "RN": "RB"]
            let other = pairs[name] ?? (name.hasPrefix("inverse_") ? String(name.dropFirst(8)) : "inverse_" + name)
            return graph.labelID(other)
        }
    }

    public struct Path: Equatable, Sendable {
        public var nodes: [Int]
        /// `labels[i]` is the label of the edge `nodes[i]` → `nodes[i + 1]`.
        public var labels: [Int]
        public var hops: Int { labels.count }
    }

    public struct Result: Sendable {
        public var path: Path?
        /// Paths assembled (valid or not) and nodes reached.
        public var pathsFound = 0
        public var explored = 0
    }

    /// Whether `labels[i + 1]` undoes `labels[i]` somewhere in the path.
    func undoes(_ labels: [Int]) -> Bool {
        for index in labels.indices.dropLast() where inverse[labels[index]] == labels[index + 1] { return true }
        return false
    }

    public func search(from source: Int, to goal: Int) -> Result {
        var result = Result()
        guard source >= 0, source < graph.nodeCount, goal >= 0, goal < graph.nodeCount else { return result }
        if source == goal {
            result.path = Path(nodes: [source], labels: [])
            result.pathsFound = 1
            return result
        }
        // node → (previous node toward the source, label of previous → node)
        var forward: [Int: (node: Int, label: Int)] = [source: (-1, -1)]
        // node → (next node toward the goal, label of node → next)
        var backward: [Int: (node: Int, label: Int)] = [goal: (-1, -1)]
        var forwardFrontier = [source], backwardFrontier = [goal]
        var forwardDepth = 0, backwardDepth = 0
        var meetings: [Int] = []
        var meetingSet = Set<Int>()
        var best: Path?

        while !forwardFrontier.isEmpty, !backwardFrontier.isEmpty, forwardDepth + backwardDepth < maxHops,
              result.explored < maxExplored {
            var next: [Int] = []
            if forwardFrontier.count <= backwardFrontier.count {
                forwardDepth += 1
                expansion: for node in forwardFrontier {
                    for edge in graph.edges(of: node) {
                        let label = graph.label(edge)
                        guard !skipped.contains(label) else { continue }
                        let target = graph.target(edge)
                        guard forward[target] == nil else { continue }
                        forward[target] = (node, label)
                        next.append(target)
                        result.explored += 1
                        if backward[target] != nil, meetingSet.insert(target).inserted { meetings.append(target) }
                        if result.explored >= maxExplored { break expansion }
                    }
                }
                forwardFrontier = next
            } else {
                backwardDepth += 1
                expansion: for node in backwardFrontier {
                    // Statements are stored both ways: a neighbour x of the
                    // node has an edge x → node; its label is looked up.
                    for edge in graph.edges(of: node) {
                        let neighbour = graph.target(edge)
                        guard backward[neighbour] == nil, let label = graph.edgeLabel(from: neighbour, to: node),
                              !skipped.contains(label) else { continue }
                        backward[neighbour] = (node, label)
                        next.append(neighbour)
                        result.explored += 1
                        if forward[neighbour] != nil, meetingSet.insert(neighbour).inserted { meetings.append(neighbour) }
                        if result.explored >= maxExplored { break expansion }
                    }
                }
                backwardFrontier = next
            }
            // Assemble the paths through this layer's meeting nodes.
            for meeting in meetings where result.pathsFound < maxPaths {
                var nodes: [Int] = [], labels: [Int] = []
                var node = meeting
                while let step = forward[node], step.node >= 0 {
                    nodes.append(node)
                    labels.append(step.label)
                    node = step.node
                }
                nodes.append(source)
                nodes.reverse()
                labels.reverse()
                node = meeting
                while let step = backward[node], step.node >= 0 {
                    labels.append(step.label)
                    nodes.append(step.node)
                    node = step.node
                }
                result.pathsFound += 1
                guard labels.count <= maxHops, !undoes(labels) else { continue }
                if best == nil || labels.count < best!.labels.count { best = Path(nodes: nodes, labels: labels) }
            }
            meetings.removeAll()
            if best != nil || result.pathsFound >= maxPaths { break }
        }
        result.path = best
        return result
    }
}
