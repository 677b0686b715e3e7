/// The union of an example's relation paths as one graph: each concept once
/// (by id, else by term), each relation edge once, with a layer per node
/// (its fewest steps from a target along any path) for drawing left to
/// right from the targets to the patient's history.
public struct EvidenceGraph: Sendable {
    public struct Node: Sendable, Equatable {
        public var key: String
        public var label: String
        public var layer: Int
        public var role: Role
    }

    public enum Role: String, CaseIterable, Sendable {
        /// A concept to be predicted.
        case target
        /// A concept of the patient's history.
        case history
        /// A concept met on the way.
        case link
    }

    public struct Edge: Sendable, Equatable {
        public var from: Int
        public var to: Int
        public var relation: String
    }

    public private(set) var nodes: [Node] = []
    public private(set) var edges: [Edge] = []

    public init(paths: [RelationPath]) {
        var index: [String: Int] = [:]
        var seenEdges = Set<String>()
        for path in paths {
            let terms = path.terms
            let relations = path.relations
            var previous: Int?
            for (position, term) in terms.enumerated() {
                let key = path.concepts.isEmpty ? term : path.concepts[position]
                let role: Role = position == 0 ? .target : position == terms.count - 1 ? .history : .link
                let node: Int
                if let known = index[key] {
                    node = known
                    nodes[node].layer = min(nodes[node].layer, position)
                    // A target or history end outranks a link role.
                    if nodes[node].role == .link { nodes[node].role = role }
                } else {
                    node = nodes.count
                    index[key] = node
                    nodes.append(Node(key: key, label: term, layer: position, role: role))
                }
                if let previous {
                    let relation = relations[position - 1]
                    if seenEdges.insert("\(previous)|\(node)|\(relation)").inserted {
                        edges.append(Edge(from: previous, to: node, relation: relation))
                    }
                }
                previous = node
            }
        }
    }

    /// Relation names, each with how often it occurs in the graph.
    public var relationCounts: [String: Int] { edges.reduce(into: [:]) { $0[$1.relation, default: 0] += 1 } }
}
