import Foundation
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
}

extension Adjacency {
    public func prefetchOffsets(of node: Int) {}
    public func prefetchEdges(of node: Int) {}
}

extension RelationGraph: Adjacency {
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
/// when the layers meet, the meeting paths are assembled and a path that
/// steps straight back is rejected, as EHR-R1 rejects it: a hop whose edge's
/// stored reverse relation equals the previous hop's relation (`isa` then
/// an edge whose reverse is `isa`, `may_treat` then `may_be_treated_by`:
/// up to a parent and down to a sibling, or from a drug to a disease and
/// on to another drug for it). Limits: `maxHops` edges, `maxPaths` paths assembled,
/// `maxExplored` nodes reached. Edges with a skipped label are never
/// followed. Deterministic: frontiers are arrays in discovery order and a
/// node's edges are in target order, so the same graph and pair always give
/// the same path.
public struct PathSearch: Sendable {
    public let graph: RelationGraph
    public var maxHops = 10
    public var maxPaths = 10
    public var maxExplored = 2000
    /// Nodes a path may end at but never pass through (hierarchy hubs:
    /// chapters, sections, roots), by node; empty: none.
    public var hubs: [Bool] = []
    /// Among the shortest paths found, take the most specific: the least
    /// total log-degree of the nodes it passes through (false: the first
    /// found, as the reference).
    public var prefersSpecific = false
    /// Whether a path may step back along a clinical relation (a drug
    /// that treats a disease, then another drug for that disease: the
    /// reason two drugs are given together), once per path. The reference forbids every
    /// step back, which on UMLS keeps hierarchy siblings (up to a parent,
    /// down to another child) out; with this set, only hierarchy labels
    /// (`isa`, `inverse_isa`, PAR, CHD, RB, RN) and phenotype annotations
    /// (`neverReturn`) still may not step back.
    public var allowsClinicalReturn = false {
        didSet {
            returnAllowed = graph.labels.map { label in
                allowsClinicalReturn && !PathSearch.broaderLabels.contains(label) && !PathSearch.narrowerLabels.contains(label)
                    && !PathSearch.neverReturn.contains(label)
            }
        }
    }
    /// Clinical labels that may not step back even so: HPO's disease
    /// annotations. A symptom, a syndrome that has it, and another symptom
    /// of that syndrome ("fever, a phenotype of X-linked agammaglobulinemia,
    /// which has recurrent urinary tract infections") joins two findings
    /// through a rare disease the patient does not have.
    public static let neverReturn: Set<String> = ["has_phenotype", "inverse_has_phenotype"]
    private var returnAllowed: [Bool] = []
    /// Label ids never followed.
    public var skipped: Set<Int> {
        didSet {
            skip = (0..<graph.labels.count).map { skipped.contains($0) }
            componentsApply = graph.componentsIgnore.isSubset(of: skipped)
        }
    }
    /// Whether a pair in two of the graph's connected components is
    /// answered at once (true by default). Only when the search skips at
    /// least the relations the components were computed without; set it
    /// false to measure the breadth-first search alone.
    public var usesComponents = true
    private var componentsApply: Bool
    /// `skipped` as a table by label id (a hash lookup per edge was a
    /// measurable share of a search).
    private var skip: [Bool]

    /// The relations EHR-R1 skips as uninformative.
    public static let referenceSkipped = ["subset_includes_concept", "concept_in_subset", "has_contraindicated_drug",
                                          "contraindicated_with_disease"]

    /// ICD-10-CM's coding notes: they say where a condition is coded, not
    /// what it has to do with another (both directions).
    public static let codingNotes = ["excludes1", "excludes2", "code_first", "use_additional_code", "code_also"]
        .flatMap { [$0, "inverse_" + $0] }

    /// How paths are chosen. `meaning` (the default): the reference's
    /// skipped relations and ICD-10-CM's coding notes skipped, hierarchy
    /// hubs never crossed, clinical relations may be stepped back along
    /// (two drugs for one disease), the most specific shortest path. `ehrR1`: the
    /// reference's rules alone (its four skipped relations, any node, the
    /// first shortest path), for UMLS users who want its behaviour.
    public enum Profile: String, Sendable, CaseIterable {
        case meaning
        case ehrR1 = "ehr-r1"

        public var skipped: [String] { self == .meaning ? PathSearch.referenceSkipped + PathSearch.codingNotes : PathSearch.referenceSkipped }
    }

    /// Labels of an edge to a broader concept (read as the graph stores
    /// them: an edge A → B labelled `inverse_isa` says A is a B).
    public static let broaderLabels: Set<String> = ["inverse_isa", "PAR", "RB"]
    /// Labels of an edge to a narrower concept.
    public static let narrowerLabels: Set<String> = ["isa", "CHD", "RN"]

    /// The hubs of a graph, which a path may end at but never pass
    /// through: the tops of its hierarchies (a root, a concept with
    /// narrower ones and no broader one, and the concepts up to `depth`
    /// levels below it: "disease", "disease of anatomical entity",
    /// "Phenotypic abnormality"), nodes with at least `degree` hierarchy
    /// edges, and those `isHub` flags by their concept id (ICD-10-CM
    /// chapters and sections). Only hierarchy edges count: a disease with
    /// many drugs, tests and symptoms is knowledge, not a hub.
    public static func hubs(of graph: RelationGraph, degree: Int, depth: Int = 1, isHub: (Int) -> Bool) -> [Bool] {
        let broader = graph.labels.map { broaderLabels.contains($0) }
        let narrower = graph.labels.map { narrowerLabels.contains($0) }
        var hubs = [Bool](repeating: false, count: graph.nodeCount)
        var frontier: [Int] = []
        for node in 0..<graph.nodeCount {
            var up = 0, down = 0
            for edge in graph.edges(of: node) {
                let label = graph.label(edge)
                if label < broader.count, broader[label] { up += 1 } else if label < narrower.count, narrower[label] { down += 1 }
            }
            if (degree > 0 && up + down >= degree) || isHub(node) { hubs[node] = true }
            if depth >= 0, up == 0, down > 0 { frontier.append(node) }
        }
        var level = 0
        var seen = Set(frontier)
        while !frontier.isEmpty {
            for node in frontier { hubs[node] = true }
            guard level < depth else { break }
            level += 1
            var next: [Int] = []
            for node in frontier {
                for edge in graph.edges(of: node) {
                    let label = graph.label(edge), target = graph.target(edge)
                    if label < narrower.count, narrower[label], seen.insert(target).inserted { next.append(target) }
                }
            }
            frontier = next
        }
        return hubs
    }

    /// Whether an ICD-10-CM chapter or section (a code range) is named by
    /// this concept id (the default lexicon's ids; with UMLS, the degree
    /// rule finds them).
    public static func isICDGrouping(_ concept: String) -> Bool {
        guard concept.hasPrefix("ICD10CM:") else { return false }
        return concept.hasPrefix("ICD10CM:chapter-") || concept.dropFirst(8).contains("-")
    }

    public init(graph: RelationGraph, skipping names: [String] = PathSearch.referenceSkipped) {
        self.graph = graph
        let skipped = Set(names.compactMap(graph.labelID))
        self.skipped = skipped
        skip = (0..<graph.labels.count).map { skipped.contains($0) }
        componentsApply = graph.componentsIgnore.isSubset(of: skipped)
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
        /// The two concepts are in different connected components: no
        /// path, and nothing explored.
        public var disconnected = false
    }

    /// The stored reverse label of the edge `from` → `to` labelled `label`.
    func reverseLabel(from: Int, to: Int, label: Int) -> Int? {
        for edge in graph.edges(of: from) where graph.target(edge) == to && graph.label(edge) == label {
            return graph.reverseLabel(edge)
        }
        return nil
    }

    /// Whether some hop's stored reverse relation is the previous hop's
    /// relation (the path steps straight back), unless that is a clinical
    /// return `allowsClinicalReturn` permits, once: one shared disease
    /// explains two drugs; a second return wanders from disease to disease.
    /// A path through one node twice (a loop around it) is refused too.
    func undoes(nodes: [Int], labels: [Int]) -> Bool {
        guard nodes.count == labels.count + 1 else { return false }
        if nodes.count > 3, Set(nodes).count < nodes.count { return true }
        var returns = 0
        for index in labels.indices.dropFirst() {
            if let back = reverseLabel(from: nodes[index], to: nodes[index + 1], label: labels[index]), back == labels[index - 1] {
                guard back < returnAllowed.count, returnAllowed[back], returns == 0 else { return true }
                returns += 1
            }
        }
        return false
    }

    public func search(from source: Int, to goal: Int) -> Result {
        search(from: source, to: goal, workspace: SearchWorkspace(nodeCount: graph.nodeCount))
    }

    public func search(from source: Int, to goal: Int, workspace: SearchWorkspace) -> Result {
        if usesComponents, componentsApply, source != goal, 0..<graph.nodeCount ~= source, 0..<graph.nodeCount ~= goal,
           !graph.sameComponent(source, goal) {
            var result = Result()
            result.disconnected = true
            return result
        }
        return search(from: source, to: goal, in: graph, workspace: workspace)
    }

    /// The breadth-first search over any adjacency source with the graph's
    /// node and label numbering (the SQL baseline of the benchmark: no
    /// component check, as the reference has none).
    public func search<Source: Adjacency>(from source: Int, to goal: Int, in adjacency: Source,
                                          workspace: SearchWorkspace) -> Result {
        var result = Result()
        guard source >= 0, source < adjacency.nodeCount, goal >= 0, goal < adjacency.nodeCount else { return result }
        if source == goal {
            result.path = Path(nodes: [source], labels: [])
            result.pathsFound = 1
            return result
        }
        // Each side's discovery list is its BFS layers one after another; a
        // frontier is the range of the last layer.
        // A side reaches each node at most once: its list never needs more
        // room than the graph has nodes, whatever the limit.
        var state = workspace.begin(nodeCount: adjacency.nodeCount, capacity: max(1, min(maxExplored, adjacency.nodeCount) + 1))
        defer { workspace.end(state) }
        state.forward.append(source, parent: -1, label: 0)
        state.seen.insert(source, .forward)
        state.backward.append(goal, parent: -1, label: 0)
        state.seen.insert(goal, .backward)
        var forwardLayer = 0..<1, backwardLayer = 0..<1
        var forwardDepth = 0, backwardDepth = 0
        // Meeting nodes in discovery order, with their slot on the side
        // that reached them last.
        var meetings: [(node: Int, slot: Int, reachedForward: Bool)] = []
        var best: Path?
        // One path's nodes and labels, assembled in place for each meeting
        // (a search assembles up to `maxPaths`, most of them rejected).
        var nodes: [Int] = [], labels: [Int] = []

        while !forwardLayer.isEmpty, !backwardLayer.isEmpty, forwardDepth + backwardDepth < maxHops,
              result.explored < maxExplored {
            if forwardLayer.count <= backwardLayer.count {
                forwardDepth += 1
                expansion: for slot in forwardLayer {
                    let node = state.forward.node(slot)
                    prefetch(state.forward, layer: forwardLayer, after: slot, in: adjacency)
                    adjacency.forEachEdge(of: node, wanted: { !state.seen.contains($0, .forward) }) { target, label in
                        guard label < skip.count, !skip[label] else { return true }
                        if target != goal, target < hubs.count, hubs[target] { return true }
                        state.seen.insert(target, .forward)
                        let reached = state.forward.append(target, parent: slot, label: label)
                        result.explored += 1
                        if state.seen.contains(target, .backward) { meetings.append((target, reached, true)) }
                        return result.explored < maxExplored
                    }
                    if result.explored >= maxExplored { break expansion }
                }
                forwardLayer = forwardLayer.upperBound..<state.forward.count
            } else {
                backwardDepth += 1
                expansion: for slot in backwardLayer {
                    let node = state.backward.node(slot)
                    prefetch(state.backward, layer: backwardLayer, after: slot, in: adjacency)
                    adjacency.forEachIncoming(to: node, wanted: { !state.seen.contains($0, .backward) }) { neighbour, label in
                        guard label < skip.count, !skip[label] else { return true }
                        if neighbour != source, neighbour < hubs.count, hubs[neighbour] { return true }
                        state.seen.insert(neighbour, .backward)
                        let reached = state.backward.append(neighbour, parent: slot, label: label)
                        result.explored += 1
                        if state.seen.contains(neighbour, .forward) { meetings.append((neighbour, reached, false)) }
                        return result.explored < maxExplored
                    }
                    if result.explored >= maxExplored { break expansion }
                }
                backwardLayer = backwardLayer.upperBound..<state.backward.count
            }
            // Assemble the paths through this layer's meeting nodes.
            for meeting in meetings where result.pathsFound < maxPaths {
                let forwardSlot = meeting.reachedForward ? meeting.slot : state.forward.slot(of: meeting.node)
                let backwardSlot = meeting.reachedForward ? state.backward.slot(of: meeting.node) : meeting.slot
                nodes.removeAll(keepingCapacity: true)
                labels.removeAll(keepingCapacity: true)
                state.forward.walk(from: forwardSlot, nodes: &nodes, labels: &labels)
                nodes.reverse()
                labels.reverse()
                state.backward.walk(from: backwardSlot, nodes: &nodes, labels: &labels, includingFirst: false)
                result.pathsFound += 1
                guard labels.count <= maxHops, !undoes(nodes: nodes, labels: labels) else { continue }
                if best == nil || labels.count < best!.labels.count {
                    best = Path(nodes: nodes, labels: labels)
                } else if prefersSpecific, labels.count == best!.labels.count,
                          generality(nodes) < generality(best!.nodes) {
                    best = Path(nodes: nodes, labels: labels)
                }
            }
            meetings.removeAll(keepingCapacity: true)
            if best != nil || result.pathsFound >= maxPaths { break }
        }
        result.path = best
        return result
    }

    /// The total log-degree of a path's inner nodes: a path through
    /// broad groupings scores higher than one through specific concepts.
    func generality(_ nodes: [Int]) -> Double {
        nodes.dropFirst().dropLast().reduce(0) { $0 + log(Double(max(1, graph.edges(of: $1).count))) }
    }

    /// Prefetches for the frontier nodes after `slot`: offsets 16 ahead and
    /// edge records 8 ahead (at a layer's first node, the offsets of its
    /// first 16 too, which nothing fetched earlier). On a graph far larger
    /// than the cache a search is a chain of misses (node → its edges);
    /// started this early they overlap instead of following one another.
    /// (What the search keeps per node is two bits, in the cache already.)
    /// The distances, and the variants tried and dropped: BENCHMARKS.md,
    /// "Stage 3: evidence paths".
    @inline(__always)
    private func prefetch<Source: Adjacency>(_ list: DiscoveryList, layer: Range<Int>, after slot: Int, in adjacency: Source) {
        if slot == layer.lowerBound {
            for ahead in slot..<min(slot &+ 16, layer.upperBound) { adjacency.prefetchOffsets(of: list.node(ahead)) }
        }
        if slot &+ 16 < layer.upperBound { adjacency.prefetchOffsets(of: list.node(slot &+ 16)) }
        if slot &+ 8 < layer.upperBound { adjacency.prefetchEdges(of: list.node(slot &+ 8)) }
    }
}

/// Per-thread scratch of `PathSearch`: which nodes each side has reached,
/// two bits per graph node (1 MB for 4M nodes, so the checks made for every
/// edge stay in the core's cache, where a per-node record of marks and
/// parents was a cache miss per neighbour on a large graph), and each side's
/// discovery list, sized by the search's limit, not by the graph. A search
/// clears the bits it set when it ends, so it costs what it explores, not
/// what the graph holds.
public final class SearchWorkspace {
    private var seen: SeenSet
    private var forward: DiscoveryList
    private var backward: DiscoveryList

    public init(nodeCount: Int) {
        seen = SeenSet(nodeCount: nodeCount)
        forward = DiscoveryList(capacity: 0)
        backward = DiscoveryList(capacity: 0)
    }

    deinit {
        seen.deallocate()
        forward.deallocate()
        backward.deallocate()
    }

    /// The state of a new search over `nodeCount` nodes reaching at most
    /// `capacity` nodes per side.
    func begin(nodeCount: Int, capacity: Int) -> SearchState {
        if seen.nodeCount != nodeCount {
            seen.deallocate()
            seen = SeenSet(nodeCount: nodeCount)
        }
        if forward.capacity < capacity {
            forward.deallocate()
            backward.deallocate()
            forward = DiscoveryList(capacity: capacity)
            backward = DiscoveryList(capacity: capacity)
        }
        return SearchState(seen: seen, forward: forward, backward: backward)
    }

    /// Clears the bits `state`'s search set: each side's word of every
    /// node it reached (a set bit is always one of those nodes).
    func end(_ state: SearchState) {
        for slot in 0..<state.forward.count { state.seen.clearWord(of: state.forward.node(slot), .forward) }
        for slot in 0..<state.backward.count { state.seen.clearWord(of: state.backward.node(slot), .backward) }
    }
}

/// The two sides of a bidirectional search.
enum SearchSide: Int {
    case forward = 0, backward = 1
}

/// What one search works on: views of its workspace's buffers (plain
/// pointers in a local value, so the search's many accesses pay no
/// exclusivity checks) and each list's length.
struct SearchState {
    let seen: SeenSet
    var forward: DiscoveryList
    var backward: DiscoveryList
}

/// Two bits per node, one per side, interleaved by word so that checking
/// both sides of a node reads one cache line.
struct SeenSet {
    let nodeCount: Int
    private let words: UnsafeMutablePointer<UInt64>

    init(nodeCount: Int) {
        self.nodeCount = nodeCount
        let count = max(1, (nodeCount + 63) / 64 * 2)
        words = .allocate(capacity: count)
        words.initialize(repeating: 0, count: count)
    }

    func deallocate() { words.deallocate() }

    @inline(__always) func contains(_ node: Int, _ side: SearchSide) -> Bool {
        words[(node >> 6) << 1 | side.rawValue] & (1 << UInt64(node & 63)) != 0
    }

    @inline(__always) func insert(_ node: Int, _ side: SearchSide) {
        words[(node >> 6) << 1 | side.rawValue] |= 1 << UInt64(node & 63)
    }

    /// Clears `side`'s bits of `node` and the 63 nodes sharing its word.
    @inline(__always) func clearWord(of node: Int, _ side: SearchSide) {
        words[(node >> 6) << 1 | side.rawValue] = 0
    }
}

/// One side's reached nodes in discovery order, each with the slot of the
/// node it was reached from (-1 at the search's start) and that edge's
/// label: the search tree, addressed by slot.
struct DiscoveryList {
    let capacity: Int
    private let nodes: UnsafeMutablePointer<Int32>
    private let parents: UnsafeMutablePointer<Int32>
    private let labels: UnsafeMutablePointer<UInt16>
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        nodes = .allocate(capacity: max(1, capacity))
        parents = .allocate(capacity: max(1, capacity))
        labels = .allocate(capacity: max(1, capacity))
    }

    func deallocate() {
        nodes.deallocate()
        parents.deallocate()
        labels.deallocate()
    }

    @inline(__always) func node(_ slot: Int) -> Int { Int(nodes[slot]) }

    /// Adds `node` and returns its slot.
    @inline(__always) @discardableResult
    mutating func append(_ node: Int, parent: Int, label: Int) -> Int {
        precondition(count < capacity, "a search reached more nodes than its limit")
        nodes[count] = Int32(truncatingIfNeeded: node)
        parents[count] = Int32(truncatingIfNeeded: parent)
        labels[count] = UInt16(truncatingIfNeeded: label)
        count += 1
        return count - 1
    }

    /// The slot of a node this list holds (asked only for meeting nodes, at
    /// most `maxPaths` times a search).
    /// Eight slots per comparison: the searches of the lexicon benchmark
    /// scan about 800 slots per pair for their meetings.
    func slot(of node: Int) -> Int {
        let wanted = Int32(truncatingIfNeeded: node)
        let splat = SIMD8<Int32>(repeating: wanted)
        var slot = 0
        while slot + 8 <= count, !any(UnsafeRawPointer(nodes + slot).loadUnaligned(as: SIMD8<Int32>.self) .== splat) {
            slot += 8
        }
        while slot < count {
            if nodes[slot] == wanted { return slot }
            slot += 1
        }
        preconditionFailure("node \(node) is not in the discovery list")
    }

    /// Appends the nodes from `slot` back to the start of the search (the
    /// one at `slot` itself unless `includingFirst` is false), and the
    /// labels of the edges between them (each joins two successive nodes,
    /// as stored: toward the first on the forward side).
    func walk(from slot: Int, nodes path: inout [Int], labels steps: inout [Int], includingFirst: Bool = true) {
        if includingFirst { path.append(node(slot)) }
        var slot = slot
        while parents[slot] >= 0 {
            steps.append(Int(labels[slot]))
            slot = Int(parents[slot])
            path.append(node(slot))
        }
    }
}
