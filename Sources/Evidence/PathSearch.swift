import CPrefetch
import Glibc

/// Where a search reads a node's edges: the memory-mapped graph, or (for
/// the benchmark of the reference's approach) one SQL query per expansion.
public protocol Adjacency {
    var nodeCount: Int { get }
    /// Calls `body(target, label)` for each outgoing edge, targets ascending.
    func forEachEdge(of node: Int, _ body: (Int, Int) -> Bool)
    /// The same for targets `wanted` accepts.
    func forEachEdge(of node: Int, wanted: (Int) -> Bool, _ body: (Int, Int) -> Bool)
    /// Calls `body(neighbour, label)` for each neighbour with an edge
    /// neighbour → node that `wanted` accepts, `label` being that edge's
    /// label (asked for only when wanted).
    func forEachIncoming(to node: Int, wanted: (Int) -> Bool, _ body: (Int, Int) -> Bool)
    /// Hints that `node`'s edges will be read soon (`prefetchOffsets` first,
    /// a few nodes earlier, where finding the edges is itself a read).
    func prefetchOffsets(of node: Int)
    func prefetchEdges(of node: Int)
    /// Calls `body` with each neighbour of `node`, to prefetch what a search
    /// keeps about them; called only after `prefetchEdges(of: node)`.
    func forEachNeighbour(of node: Int, _ body: (Int) -> Void)
}

extension Adjacency {
    public func prefetchOffsets(of node: Int) {}
    public func prefetchEdges(of node: Int) {}
    public func forEachNeighbour(of node: Int, _ body: (Int) -> Void) {}
}

extension RelationGraph: Adjacency {
    @inline(__always)
    public func forEachNeighbour(of node: Int, _ body: (Int) -> Void) {
        for edge in edges(of: node) { body(target(edge)) }
    }

    @inline(__always)
    public func forEachEdge(of node: Int, _ body: (Int, Int) -> Bool) {
        for edge in edges(of: node) where !body(target(edge), label(edge)) { return }
    }

    /// Like `forEachEdge`, but reads an edge's label only for targets
    /// `wanted` accepts (most targets of a search are already reached).
    @inline(__always)
    public func forEachEdge(of node: Int, wanted: (Int) -> Bool, _ body: (Int, Int) -> Bool) {
        for edge in edges(of: node) {
            let target = target(edge)
            guard wanted(target) else { continue }
            if !body(target, label(edge)) { return }
        }
    }

    /// Statements are stored both ways, so a node's neighbours are its
    /// edges' targets, and the label back is stored with each edge.
    @inline(__always)
    public func forEachIncoming(to node: Int, wanted: (Int) -> Bool, _ body: (Int, Int) -> Bool) {
        for edge in edges(of: node) {
            let neighbour = target(edge)
            guard wanted(neighbour), let back = reverseLabel(edge) else { continue }
            if !body(neighbour, back) { return }
        }
    }
}

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
    public var skipped: Set<Int> {
        didSet { skip = (0..<graph.labels.count).map { skipped.contains($0) } }
    }
    /// `skipped` as a table by label id (a hash lookup per edge was a
    /// measurable share of a search).
    private var skip: [Bool]
    /// Label id → the id of its inverse label, if the graph has it.
    private let inverse: [Int?]

    /// The relations EHR-R1 skips as uninformative.
    public static let referenceSkipped = ["subset_includes_concept", "concept_in_subset", "has_contraindicated_drug",
                                          "contraindicated_with_disease"]

    public init(graph: RelationGraph, skipping names: [String] = PathSearch.referenceSkipped) {
        self.graph = graph
        let skipped = Set(names.compactMap(graph.labelID))
        self.skipped = skipped
        skip = (0..<graph.labels.count).map { skipped.contains($0) }
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
        search(from: source, to: goal, in: graph, workspace: SearchWorkspace(nodeCount: graph.nodeCount))
    }

    public func search(from source: Int, to goal: Int, workspace: SearchWorkspace) -> Result {
        search(from: source, to: goal, in: graph, workspace: workspace)
    }

    /// The same search over another adjacency source with the same node
    /// and label numbering.
    public func search<Source: Adjacency>(from source: Int, to goal: Int, in adjacency: Source,
                                          workspace: SearchWorkspace) -> Result {
        var result = Result()
        guard source >= 0, source < adjacency.nodeCount, goal >= 0, goal < adjacency.nodeCount else { return result }
        if source == goal {
            result.path = Path(nodes: [source], labels: [])
            result.pathsFound = 1
            return result
        }
        let w = workspace
        w.begin(nodeCount: adjacency.nodeCount)
        w.reachForward(source, from: -1, label: 0)
        w.reachBackward(goal, toward: -1, label: 0)
        var forwardFrontier = [source], backwardFrontier = [goal]
        var next: [Int] = []
        next.reserveCapacity(min(maxExplored, adjacency.nodeCount))
        var forwardDepth = 0, backwardDepth = 0
        var meetings: [Int] = []
        var best: Path?

        while !forwardFrontier.isEmpty, !backwardFrontier.isEmpty, forwardDepth + backwardDepth < maxHops,
              result.explored < maxExplored {
            next.removeAll(keepingCapacity: true)
            if forwardFrontier.count <= backwardFrontier.count {
                forwardDepth += 1
                expansion: for (position, node) in forwardFrontier.enumerated() {
                    prefetch(forwardFrontier, after: position, in: adjacency, workspace: w)
                    adjacency.forEachEdge(of: node, wanted: { !w.isForward($0) }) { target, label in
                        guard label < skip.count, !skip[label] else { return true }
                        w.reachForward(target, from: node, label: label)
                        next.append(target)
                        result.explored += 1
                        if w.isBackward(target), w.markMeeting(target) { meetings.append(target) }
                        return result.explored < maxExplored
                    }
                    if result.explored >= maxExplored { break expansion }
                }
                swap(&forwardFrontier, &next)
            } else {
                backwardDepth += 1
                expansion: for (position, node) in backwardFrontier.enumerated() {
                    prefetch(backwardFrontier, after: position, in: adjacency, workspace: w)
                    adjacency.forEachIncoming(to: node, wanted: { !w.isBackward($0) }) { neighbour, label in
                        guard label < skip.count, !skip[label] else { return true }
                        w.reachBackward(neighbour, toward: node, label: label)
                        next.append(neighbour)
                        result.explored += 1
                        if w.isForward(neighbour), w.markMeeting(neighbour) { meetings.append(neighbour) }
                        return result.explored < maxExplored
                    }
                    if result.explored >= maxExplored { break expansion }
                }
                swap(&backwardFrontier, &next)
            }
            // Assemble the paths through this layer's meeting nodes.
            for meeting in meetings where result.pathsFound < maxPaths {
                var nodes: [Int] = [], labels: [Int] = []
                var node = meeting
                while let step = w.forwardStep(node) {
                    nodes.append(node)
                    labels.append(step.label)
                    node = step.node
                }
                nodes.append(source)
                nodes.reverse()
                labels.reverse()
                node = meeting
                while let step = w.backwardStep(node) {
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

    /// Prefetches for the frontier nodes after `position`: offsets 16
    /// ahead, edge records 8 ahead, and what the workspace keeps about the
    /// neighbours of the node 2 ahead. On a graph far larger than the cache a
    /// search is a chain of misses (node → its edges → each neighbour's
    /// marks); started this early they overlap instead of following one
    /// another.
    @inline(__always)
    private func prefetch<Source: Adjacency>(_ frontier: [Int], after position: Int, in adjacency: Source,
                                             workspace: SearchWorkspace) {
        let count = frontier.count
        if position &+ 16 < count { adjacency.prefetchOffsets(of: frontier[position &+ 16]) }
        if position &+ 8 < count { adjacency.prefetchEdges(of: frontier[position &+ 8]) }
        if position &+ 2 < count { adjacency.forEachNeighbour(of: frontier[position &+ 2]) { workspace.prefetch($0) } }
    }
}

/// Per-thread scratch of `PathSearch`: visit marks and parents in arrays
/// indexed by node, reset in O(1) between searches by a generation stamp,
/// so a search costs what it explores, not what the graph holds (no hash
/// lookups on the way). About 20 bytes per graph node.
public final class SearchWorkspace {
    /// Everything a search keeps about one node, side by side, so checking
    /// and marking a node touches one cache line (three separate arrays
    /// cost three misses per node on a large graph).
    struct Entry {
        var forwardMark: UInt32 = 0
        var backwardMark: UInt32 = 0
        var meetingMark: UInt32 = 0
        var forwardParent: Int32 = -1
        var backwardParent: Int32 = -1
        var forwardLabel: UInt16 = 0
        var backwardLabel: UInt16 = 0
    }

    // A raw buffer, not an array: a class's array property pays a dynamic
    // exclusivity check on every access, which was half a search's time.
    private var entries = UnsafeMutablePointer<Entry>.allocate(capacity: 1)
    private var generation: UInt32 = 0
    private var count = 0

    public init(nodeCount: Int) { resize(nodeCount) }

    deinit { UnsafeMutableRawPointer(entries).deallocate() }

    private func resize(_ nodes: Int) {
        UnsafeMutableRawPointer(entries).deallocate()
        count = nodes
        // On 2 MB boundaries, and asking the kernel for huge pages: a
        // search's marks are random reads over 24 bytes per node (96 MB for
        // 4M nodes), and with 4 KB pages nearly each one also misses the
        // TLB. Only a hint: without transparent huge pages nothing changes.
        let bytes = max(1, nodes) * MemoryLayout<Entry>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 2 << 20)
        _ = madvise(raw, bytes, MADV_HUGEPAGE)
        entries = raw.bindMemory(to: Entry.self, capacity: max(1, nodes))
        entries.initialize(repeating: Entry(), count: max(1, nodes))
        generation = 0
    }

    func begin(nodeCount: Int) {
        if count != nodeCount { resize(nodeCount) }
        generation &+= 1
        if generation == 0 {
            resize(nodeCount)
            generation = 1
        }
    }

    @inline(__always) func prefetch(_ node: Int) {
        guard node >= 0, node < count else { return }
        tg_prefetch(entries + node)
    }

    @inline(__always) func isForward(_ node: Int) -> Bool { entries[node].forwardMark == generation }
    @inline(__always) func isBackward(_ node: Int) -> Bool { entries[node].backwardMark == generation }

    @inline(__always) func reachForward(_ node: Int, from parent: Int, label: Int) {
        entries[node].forwardMark = generation
        entries[node].forwardParent = Int32(parent)
        entries[node].forwardLabel = UInt16(label)
    }

    @inline(__always) func reachBackward(_ node: Int, toward next: Int, label: Int) {
        entries[node].backwardMark = generation
        entries[node].backwardParent = Int32(next)
        entries[node].backwardLabel = UInt16(label)
    }

    /// True the first time `node` is marked as a meeting in this search.
    @inline(__always) func markMeeting(_ node: Int) -> Bool {
        guard entries[node].meetingMark != generation else { return false }
        entries[node].meetingMark = generation
        return true
    }

    func forwardStep(_ node: Int) -> (node: Int, label: Int)? {
        let parent = Int(entries[node].forwardParent)
        return parent >= 0 ? (parent, Int(entries[node].forwardLabel)) : nil
    }

    func backwardStep(_ node: Int) -> (node: Int, label: Int)? {
        let next = Int(entries[node].backwardParent)
        return next >= 0 ? (next, Int(entries[node].backwardLabel)) : nil
    }
}
