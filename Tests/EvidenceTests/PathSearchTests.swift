import Foundation
import Testing
@testable import Evidence
import TGSupport

@Suite struct PathSearchTests {
    static let labels = ["isa", "inverse_isa", "may_treat", "may_be_treated_by", "concept_in_subset", "subset_includes_concept"]

    /// Writes a graph where every statement is stored both ways, as the
    /// importers store them.
    static func graph(_ statements: [(Int, String, Int)], nodes: Int) throws -> RelationGraph {
        func id(_ name: String) -> Int { labels.firstIndex(of: name)! }
        func inverse(_ name: String) -> String { name.hasPrefix("inverse_") ? String(name.dropFirst(8)) :
            name == "may_treat" ? "may_be_treated_by" : name == "may_be_treated_by" ? "may_treat" :
            name == "concept_in_subset" ? "subset_includes_concept" : name == "subset_includes_concept" ? "concept_in_subset" :
            "inverse_" + name }
        var edges: [(from: Int, to: Int, label: Int)] = []
        for (from, label, to) in statements {
            edges.append((from, to, id(label)))
            edges.append((to, from, id(inverse(label))))
        }
        let path = NSTemporaryDirectory() + "tg-graph-\(UUID().uuidString)"
        try RelationGraph.write(nodes: nodes, edges: edges, labels: labels, to: path)
        defer { unlink(path); unlink(path + ".seal") }
        return try RelationGraph(path: path)
    }

    // 0 drug -may_treat-> 1 disease -inverse_isa-> 2 parent; 3 sibling -inverse_isa-> 2;
    // 1 -inverse_isa-> 4 other parent -inverse_isa-> 5 root; 6 isolated; chain 7..18.
    static func clinic() throws -> RelationGraph {
        var statements: [(Int, String, Int)] = [(0, "may_treat", 1), (1, "inverse_isa", 2), (3, "inverse_isa", 2),
                                                (1, "inverse_isa", 4), (4, "inverse_isa", 5), (0, "concept_in_subset", 5)]
        for node in 7..<18 { statements.append((node, "inverse_isa", node + 1)) }
        return try graph(statements, nodes: 19)
    }

    @Test func findsTheShortestPathInBothDirections() throws {
        let search = PathSearch(graph: try Self.clinic())
        let forward = try #require(search.search(from: 0, to: 2).path)
        #expect(forward.nodes == [0, 1, 2])
        #expect(forward.labels.map { search.graph.labels[$0] } == ["may_treat", "inverse_isa"])
        let backward = try #require(search.search(from: 2, to: 0).path)
        #expect(backward.nodes == [2, 1, 0])
        #expect(backward.labels.map { search.graph.labels[$0] } == ["isa", "may_be_treated_by"])
        // Deterministic: the same answer every time.
        #expect((0..<5).allSatisfy { _ in search.search(from: 0, to: 5).path == search.search(from: 0, to: 5).path })
    }

    @Test func skippedRelationsAreNotFollowed() throws {
        let graph = try Self.clinic()
        // 0 -> 5 directly only through the skipped subset relation.
        #expect(PathSearch(graph: graph).search(from: 0, to: 5).path?.nodes == [0, 1, 4, 5])
        #expect(PathSearch(graph: graph, skipping: []).search(from: 0, to: 5).path?.nodes == [0, 5])
    }

    @Test func pathsThatUndoThemselvesAreRejected() throws {
        // 1 and 3 are siblings under 2: up then straight down again.
        let search = PathSearch(graph: try Self.clinic())
        let result = search.search(from: 1, to: 3)
        #expect(result.path == nil && result.pathsFound >= 1)
        let up = search.graph.labelID("inverse_isa")!, down = search.graph.labelID("isa")!
        #expect(search.undoes(nodes: [1, 2, 3], labels: [up, down]))
        #expect(!search.undoes(nodes: [1, 4, 5], labels: [up, up]))
    }

    /// UMLS-style relation names that are not `x` / `inverse_x`: the
    /// stored reverse label of each edge decides, as in EHR-R1.
    @Test func umlsStyleLabelPairsAreRecognisedByTheirStoredReverse() throws {
        // 0 drug -may_treat-> 1 disease <-may_treat- 2 other drug; 2 -isa-> 3 class <-isa- 0.
        let graph = try Self.graph([(0, "may_treat", 1), (2, "may_treat", 1), (0, "isa", 3), (2, "isa", 3)], nodes: 4)
        let search = PathSearch(graph: graph)
        let treat = graph.labelID("may_treat")!, treatedBy = graph.labelID("may_be_treated_by")!
        // Drug -> disease -> another drug for it steps straight back.
        #expect(search.undoes(nodes: [0, 1, 2], labels: [treat, treatedBy]))
        #expect(search.search(from: 0, to: 2).path == nil)
        // Without the reverse stored, nothing is known to undo.
        #expect(!search.undoes(nodes: [0, 1, 2], labels: [treat, treat]))
    }

    @Test func limitsUnreachableAndSelfPairs() throws {
        var search = PathSearch(graph: try Self.clinic())
        #expect(search.search(from: 0, to: 6).path == nil)
        #expect(search.search(from: 6, to: 6).path?.nodes == [6])
        #expect(search.search(from: 7, to: 17).path?.hops == 10)
        #expect(search.search(from: 7, to: 18).path == nil)
        search.maxHops = 3
        #expect(search.search(from: 7, to: 11).path == nil)
        #expect(search.search(from: 7, to: 10).path?.hops == 3)
        search.maxHops = 10
        search.maxExplored = 2
        let limited = search.search(from: 7, to: 17)
        #expect(limited.path == nil && limited.explored <= 2)
        #expect(search.search(from: -1, to: 3).path == nil && search.search(from: 0, to: 99).path == nil)
        // Limits far beyond the graph cost no more than the graph.
        search.maxExplored = .max
        #expect(search.search(from: 7, to: 17).path?.hops == 10)
        search.maxExplored = -5
        #expect(search.search(from: 7, to: 8).path == nil)
    }

    /// A random graph whose statements use all four relation pairs, with
    /// hubs, so that searches meet, hit the limits and get rejected paths.
    static func randomGraph(nodes: Int, statements: Int, seed: UInt64) throws -> RelationGraph {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let names = ["isa", "inverse_isa", "may_treat", "may_be_treated_by", "concept_in_subset"]
        let triples = (0..<statements).map { _ in
            // A third of the statements touch one of ten hubs.
            let from = next(3) == 0 ? next(10) : next(nodes)
            return (from, names[next(names.count)], next(nodes))
        }
        return try graph(triples.filter { $0.0 != $0.2 }, nodes: nodes)
    }

    @Test func aReusedWorkspaceGivesWhatAFreshOneGives() throws {
        let graph = try Self.randomGraph(nodes: 400, statements: 700, seed: 3)
        var search = PathSearch(graph: graph)
        search.maxExplored = 60
        let shared = SearchWorkspace(nodeCount: graph.nodeCount)
        var found = 0, limited = 0
        for pair in 0..<300 {
            let from = (pair * 37) % 400, to = (pair * 91 + 5) % 400
            let reused = search.search(from: from, to: to, workspace: shared)
            let fresh = search.search(from: from, to: to, workspace: SearchWorkspace(nodeCount: graph.nodeCount))
            #expect(reused.path == fresh.path && reused.explored == fresh.explored && reused.pathsFound == fresh.pathsFound,
                    "pair \(from) → \(to)")
            if reused.path != nil { found += 1 }
            if reused.explored == search.maxExplored { limited += 1 }
        }
        // The pairs exercise both outcomes, and the limit.
        #expect(found > 20 && found < 280 && limited > 20)
        // A workspace sized for another graph adapts.
        let small = try Self.clinic()
        #expect(PathSearch(graph: small).search(from: 0, to: 2, workspace: shared).path?.nodes == [0, 1, 2])
    }

    @Test func theSQLBaselineFindsTheSamePaths() throws {
        let graph = try Self.randomGraph(nodes: 300, statements: 500, seed: 11)
        let search = PathSearch(graph: graph)
        let sql = try SQLAdjacency(copying: graph)
        let workspace = SearchWorkspace(nodeCount: graph.nodeCount)
        var found = 0, disconnected = 0
        for pair in 0..<150 {
            let from = (pair * 53) % 300, to = (pair * 17 + 1) % 300
            let ours = search.search(from: from, to: to, workspace: workspace)
            let theirs = search.search(from: from, to: to, in: sql, workspace: workspace)
            #expect(ours.path == theirs.path, "pair \(from) → \(to)")
            // Where ours knew the answer from the components, it explored nothing.
            #expect(ours.disconnected ? ours.explored == 0 : ours.explored == theirs.explored, "pair \(from) → \(to)")
            if ours.path != nil { found += 1 }
            if ours.disconnected { disconnected += 1 }
        }
        #expect(found > 10 && disconnected > 0)
    }

    @Test func pairsInDifferentComponentsAreAnsweredWithoutExploring() throws {
        var search = PathSearch(graph: try Self.clinic())
        // 6 is isolated; the chain 7...18 is a component of its own.
        for (from, to) in [(0, 6), (6, 0), (0, 12), (18, 3)] {
            let result = search.search(from: from, to: to)
            #expect(result.path == nil && result.disconnected && result.explored == 0)
        }
        #expect(!search.search(from: 0, to: 3).disconnected)
        search.usesComponents = false
        let explored = search.search(from: 0, to: 12)
        #expect(explored.path == nil && !explored.disconnected && explored.explored > 0)
    }

    @Test func componentsLeaveOutTheSkippedRelations() throws {
        // 0 and 1 joined only through a subset relation, which the default
        // search skips: different components for it, one for a search that
        // follows every relation.
        let graph = try Self.graph([(0, "concept_in_subset", 1), (1, "isa", 2)], nodes: 4)
        #expect(graph.componentsIgnore == [graph.labelID("concept_in_subset")!, graph.labelID("subset_includes_concept")!])
        #expect(!graph.sameComponent(0, 1) && graph.sameComponent(1, 2) && !graph.sameComponent(2, 3))
        #expect(PathSearch(graph: graph).search(from: 0, to: 1).disconnected)
        let everything = PathSearch(graph: graph, skipping: [])
        #expect(everything.search(from: 0, to: 2).path?.nodes == [0, 1, 2])
        #expect(everything.search(from: 0, to: 3).path == nil)
    }

    @Test func componentsAreNamedByTheirSmallestNode() {
        func key(_ from: Int, _ to: Int) -> UInt64 { UInt64(from) << 40 | UInt64(to) << 16 }
        let edges = [key(1, 4), key(4, 1), key(3, 5), key(5, 3), key(5, 0), key(0, 5), key(2, 2) | 7].sorted()
        #expect(RelationGraph.connectedComponents(nodes: 7, edges: edges, ignoring: [7]) == [0, 1, 2, 0, 1, 0, 6])
    }

    @Test func aGraphFileOfAnotherVersionOrDamagedIsRefused() throws {
        let path = NSTemporaryDirectory() + "tg-graph-\(UUID().uuidString)"
        defer { unlink(path); unlink(path + ".seal") }
        try RelationGraph.write(nodes: 3, edges: [(0, 1, 0), (1, 0, 1)], labels: Self.labels, to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        _ = try RelationGraph(path: path)
        // Cut short: the components are missing.
        try bytes.prefix(bytes.count - 4).write(to: URL(fileURLWithPath: path))
        #expect(throws: InputError.self) { try RelationGraph(path: path) }
        // Format 3 (no components).
        bytes[4] = 3
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: InputError.self) { try RelationGraph(path: path) }
        #expect(error?.message.contains("version 4") == true)
    }

    /// A graph of 3 nodes and 2 edges: header 20 bytes, offsets 16 (to 36),
    /// padding to 40, records 40..<56, then labels and components.
    static func damagedGraph(_ damage: (inout Data) -> Void) throws -> InputError? {
        let path = NSTemporaryDirectory() + "tg-graph-\(UUID().uuidString)"
        defer { unlink(path); unlink(path + ".seal") }
        try RelationGraph.write(nodes: 3, edges: [(0, 1, 0), (1, 0, 1)], labels: Self.labels, to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        damage(&bytes)
        try bytes.write(to: URL(fileURLWithPath: path))
        return #expect(throws: InputError.self) { try RelationGraph(path: path) }
    }

    static func put(_ value: UInt32, at offset: Int, in bytes: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
    }

    @Test func aGraphWhoseEdgesPointOutsideItIsRefusedAtOpen() throws {
        // The first edge's target (bytes 40..<44) beyond the 3 nodes: the
        // search would index its bit sets with it.
        let target = try Self.damagedGraph { Self.put(1_000_000, at: 40, in: &$0) }
        #expect(target?.message.contains("points to node 1000000, but there are 3 nodes") == true)
        // Its label (bytes 44..<46) beyond the 6 labels.
        let label = try Self.damagedGraph { Self.put(0xFFFF_0009, at: 44, in: &$0) }
        #expect(label?.message.contains("has label 9, but there are 6 labels") == true)
        // The label of the way back (bytes 46..<48), neither a label nor 0xFFFF.
        let back = try Self.damagedGraph { Self.put(0x0040_0000, at: 44, in: &$0) }
        #expect(back?.message.contains("way back has label 64") == true)
    }

    @Test func aGraphWhoseOffsetsGoBackOrBeyondItsEdgesIsRefusedAtOpen() throws {
        // offsets: [0, 1, 2, 2] at 20, 24, 28, 32.
        let backwards = try Self.damagedGraph { Self.put(2, at: 24, in: &$0); Self.put(1, at: 28, in: &$0) }
        #expect(backwards?.message.contains("node 1's edge offsets (2..<1)") == true)
        let beyond = try Self.damagedGraph { Self.put(7, at: 24, in: &$0) }
        #expect(beyond?.message.contains("node 0's edge offsets (0..<7) are not within 0..<2") == true)
        let start = try Self.damagedGraph { Self.put(1, at: 20, in: &$0) }
        #expect(start?.message.contains("node 0's edges start at 1") == true)
    }

    @Test func aGraphWhoseComponentsAreNotNodesIsRefusedAtOpen() throws {
        // The last node's component: the file's last 4 bytes.
        let error = try Self.damagedGraph { Self.put(3, at: $0.count - 4, in: &$0) }
        #expect(error?.message.contains("node 2 is in component 3") == true)
    }

    /// Any single damaged byte: the graph is refused, or every edge it
    /// serves stays within its nodes and labels (a search over it is safe).
    @Test func noSingleDamagedByteOpensAGraphThatReachesOutside() throws {
        let path = NSTemporaryDirectory() + "tg-graph-\(UUID().uuidString)"
        defer { unlink(path); unlink(path + ".seal") }
        var edges: [(from: Int, to: Int, label: Int)] = []
        for index in 0..<40 {
            let from = index % 12, to = (index * 7 + 3) % 12
            edges.append((from: from, to: to, label: index % 6))
            edges.append((from: to, to: from, label: (index + 1) % 6))
        }
        try RelationGraph.write(nodes: 12, edges: edges, labels: Self.labels, to: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        var refused = 0
        for offset in 0..<original.count {
            for value: UInt8 in [0xFF, 0x80] where original[offset] != value {
                var bytes = original
                bytes[offset] = value
                try bytes.write(to: URL(fileURLWithPath: path))
                guard let graph = try? RelationGraph(path: path) else { refused += 1; continue }
                for node in 0..<graph.nodeCount {
                    for edge in graph.edges(of: node) {
                        #expect(graph.target(edge) < graph.nodeCount && graph.label(edge) < graph.labels.count,
                                "byte \(offset) set to \(value)")
                    }
                }
                let search = PathSearch(graph: graph, skipping: [])
                _ = search.search(from: 0, to: graph.nodeCount - 1)
            }
        }
        #expect(refused > original.count / 2)
    }
}

/// The meaning profile: hubs are ends, never waypoints; among shortest
/// paths the most specific wins.
@Suite struct PathProfileTests {
    @Test func hubsAreNeverCrossedButMayEndAPath() throws {
        // 0 -may_treat-> 1 (hub) -may_treat-> 2, and a longer way 0 -> 3 -> 4 -> 2.
        let graph = try PathSearchTests.graph([(0, "may_treat", 1), (1, "may_treat", 2), (0, "may_treat", 3), (3, "may_treat", 4),
                                               (4, "may_treat", 2)], nodes: 5)
        var search = PathSearch(graph: graph)
        #expect(search.search(from: 0, to: 2).path?.nodes == [0, 1, 2])
        search.hubs = [false, true, false, false, false]
        #expect(search.search(from: 0, to: 2).path?.nodes == [0, 3, 4, 2])
        #expect(search.search(from: 0, to: 1).path?.nodes == [0, 1])
        #expect(search.search(from: 1, to: 0).path?.nodes == [1, 0])
    }

    @Test func theMostSpecificShortestPathIsPreferred() throws {
        // Two 2-hop paths 0 -> 1 -> 9 and 0 -> 2 -> 9; node 1 is broad (many edges).
        var statements: [(Int, String, Int)] = [(0, "may_treat", 1), (1, "may_treat", 9), (0, "may_treat", 2), (2, "may_treat", 9)]
        for leaf in 3..<9 { statements.append((1, "may_treat", leaf)) }
        let graph = try PathSearchTests.graph(statements, nodes: 10)
        var search = PathSearch(graph: graph)
        #expect(search.search(from: 0, to: 9).path?.nodes == [0, 1, 9])
        search.prefersSpecific = true
        #expect(search.search(from: 0, to: 9).path?.nodes == [0, 2, 9])
    }

    @Test func theTopsOfHierarchiesAreHubsAndClinicalEdgesDoNotMakeOne() throws {
        // Root 0; 1 and 2 are a 0; 3 is a 1; 4 is a 3. Drug 5 treats 3, 6, 7, 8 and 9.
        var statements: [(Int, String, Int)] = [(1, "inverse_isa", 0), (2, "inverse_isa", 0), (3, "inverse_isa", 1),
                                                (4, "inverse_isa", 3), (5, "may_treat", 3)]
        for disease in 6..<10 { statements.append((5, "may_treat", disease)) }
        let graph = try PathSearchTests.graph(statements, nodes: 10)
        let hubs = PathSearch.hubs(of: graph, degree: 3, depth: 1) { _ in false }
        #expect(hubs == [true, true, true, false, false, false, false, false, false, false])
        #expect(PathSearch.hubs(of: graph, degree: 0, depth: 0) { _ in false }.enumerated().filter(\.element).map(\.offset) == [0])
        #expect(PathSearch.hubs(of: graph, degree: 0, depth: -1) { $0 == 4 }.enumerated().filter(\.element).map(\.offset) == [4])
        // Node 1 has two hierarchy edges (up to 0, down to 3): at degree 2 it is a hub without depth; drug 5 has five clinical edges and is not.
        #expect(PathSearch.hubs(of: graph, degree: 2, depth: -1) { _ in false }[1])
        #expect(!PathSearch.hubs(of: graph, degree: 2, depth: -1) { _ in false }[5])
    }

    @Test func aClinicalRelationMayBeSteppedBackOnce() throws {
        // Drugs 0 and 2 treat disease 1; drug 2 and drug 4 treat disease 3; 5 and 6 are a 7.
        let graph = try PathSearchTests.graph([(0, "may_treat", 1), (2, "may_treat", 1), (2, "may_treat", 3), (4, "may_treat", 3),
                                               (5, "inverse_isa", 7), (6, "inverse_isa", 7)], nodes: 8)
        var search = PathSearch(graph: graph)
        #expect(search.search(from: 0, to: 2).path == nil)
        search.allowsClinicalReturn = true
        #expect(search.search(from: 0, to: 2).path?.nodes == [0, 1, 2])
        // Two returns wander from disease to disease; a hierarchy sibling is still not a reason.
        #expect(search.search(from: 0, to: 4).path == nil)
        #expect(search.search(from: 5, to: 6).path == nil)
    }

    @Test func aPhenotypeAnnotationIsNeverSteppedBack() throws {
        // Syndrome 1 has phenotypes 0 and 2; drug 3 treats syndrome 1.
        let labels = ["has_phenotype", "inverse_has_phenotype", "may_treat", "inverse_may_treat"]
        var edges: [(from: Int, to: Int, label: Int)] = []
        for (phenotype, syndrome) in [(0, 1), (2, 1)] { edges += [(phenotype, syndrome, 0), (syndrome, phenotype, 1)] }
        edges += [(1, 3, 2), (3, 1, 3)]
        let path = NSTemporaryDirectory() + "tg-graph-\(UUID().uuidString)"
        try RelationGraph.write(nodes: 4, edges: edges, labels: labels, to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var search = PathSearch(graph: try RelationGraph(path: path))
        search.allowsClinicalReturn = true
        // Symptom -> syndrome -> another of its symptoms: not a reason (nor
        // the loop out to the drug and back).
        #expect(search.search(from: 0, to: 2).path == nil)
        // Symptom -> syndrome -> a drug for it: a reason.
        #expect(search.search(from: 0, to: 3).path?.nodes == [0, 1, 3])
        #expect(RelationWords.phrase("inverse_has_phenotype") == "has phenotype" && RelationWords.phrase("has_phenotype") == "is a phenotype of")
    }

    @Test func groupingsAndCodingNotesAreNamed() {
        #expect(PathSearch.isICDGrouping("ICD10CM:chapter-14") && PathSearch.isICDGrouping("ICD10CM:N17-N19"))
        #expect(!PathSearch.isICDGrouping("ICD10CM:N18.9") && !PathSearch.isICDGrouping("C0022661"))
        #expect(PathSearch.Profile.meaning.skipped.contains("inverse_excludes2") && !PathSearch.Profile.ehrR1.skipped.contains("excludes2"))
        // A label on A -> B says "B label A": read forward, it is reversed.
        #expect(RelationWords.phrase("inverse_may_treat") == "may treat" && RelationWords.phrase("may_treat") == "may be treated by")
        #expect(RelationWords.phrase("inverse_isa") == "is a" && RelationWords.phrase("isa") == "has subtype")
        #expect(RelationWords.phrase("inverse_associated_with") == "associated with" && RelationWords.phrase("PAR") == "has parent")
    }
}
