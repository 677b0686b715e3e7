import ArgumentParser
import EHR
import Evidence
import Foundation
import Lexicon
import Runtime
import TGSupport

struct EvidenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Stage 3: relation paths between each sample's strongest target/history pairs (chunked, resumable).",
        subcommands: [EvidenceRunCommand.self, EvidenceMergeCommand.self, EvidencePathCommand.self, EvidenceBenchCommand.self],
        defaultSubcommand: EvidenceRunCommand.self)
}

/// Relation-graph search options shared by the stage and `evidence path`.
struct SearchOptions: ParsableArguments {
    @Option(help: "Longest path, in relations (default: 3 with the meaning profile, where longer chains wander from disease to disease; 10 with ehr-r1).")
    var maxHops: Int?

    /// The longest path: the option, else the profile's.
    var hops: Int { maxHops ?? (pathProfile == .meaning ? 3 : 10) }

    @Option(help: "Stop after assembling this many paths.")
    var maxPaths = 10

    @Option(help: "Stop after reaching this many nodes.")
    var maxExplored = 2000

    @Option(help: "How paths are chosen: meaning (skip coding notes, never cross hierarchy hubs, prefer specific paths) or ehr-r1 (the reference's rules alone).")
    var pathProfile: PathSearch.Profile = .meaning

    @Option(help: "Relation labels never followed, comma-separated (default: the profile's: the reference's four, and with meaning ICD-10-CM's coding notes).")
    var skipRelations: String?

    @Option(help: "With the meaning profile, nodes with at least this many hierarchy edges are hubs a path never crosses (0: none).")
    var hubDegree = 100

    @Option(help: "With the meaning profile, the roots of each hierarchy and the concepts up to this many levels below them are hubs a path never crosses (-1: none).")
    var hubDepth = 1

    func validate() throws {
        guard hops >= 1 else { throw ValidationError("--max-hops must be at least 1") }
        guard maxPaths >= 1 else { throw ValidationError("--max-paths must be at least 1") }
        guard maxExplored >= 1 else { throw ValidationError("--max-explored must be at least 1") }
        guard hubDegree >= 0 else { throw ValidationError("--hub-degree must be 0 or more") }
        guard hubDepth >= -1 else { throw ValidationError("--hub-depth must be -1 (none) or more") }
    }

    var skipped: [String] {
        skipRelations.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? pathProfile.skipped
    }

    func search(_ graph: RelationGraph, concepts: [String]) -> PathSearch {
        var search = PathSearch(graph: graph, skipping: skipped)
        search.maxHops = hops
        search.maxPaths = maxPaths
        search.maxExplored = maxExplored
        if pathProfile == .meaning {
            search.hubs = PathSearch.hubs(of: graph, degree: hubDegree, depth: hubDepth) { node in
                node < concepts.count && PathSearch.isICDGrouping(concepts[node])
            }
            search.prefersSpecific = true
            search.allowsClinicalReturn = true
        }
        return search
    }

    var json: [(String, JSONValue)] {
        [("max_hops", .integer(Int64(hops))), ("max_paths", .integer(Int64(maxPaths))),
         ("max_explored", .integer(Int64(maxExplored))), ("path_profile", .string(pathProfile.rawValue)),
         ("skip_relations", .string(skipped.joined(separator: ","))), ("hub_degree", .integer(Int64(pathProfile == .meaning ? hubDegree : 0))),
         ("hub_depth", .integer(Int64(pathProfile == .meaning ? hubDepth : -1)))]
    }
}

struct EvidenceRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Find the evidence paths of one chunk of the run's samples into RUN/evidence/CHUNK.jsonl.")

    @Option(name: .customLong("run"), help: "Run folder (after `cooccur merge`).")
    var runFolder: String

    @Option(help: "Lexicon folder (its relation graph is built beside it on first use).")
    var lexicon: String

    @Option(help: "Keep pairs with lift above this.")
    var threshold = 5.0

    @Option(help: "Keep pairs whose history concept occurs in at least this many samples.")
    var minSupport = 5

    @Option(help: "Pairs kept per target concept, strongest first.")
    var topk = 20

    @Option(help: "Only these tasks (comma-separated).")
    var task: String?

    @Option(help: "Task file (default: the shipped EHR-R1 tasks).")
    var tasks: String?

    @Flag(help: "Run even if an input changed since the stage before wrote it.")
    var force = false

    @OptionGroup var searchOptions: SearchOptions
    @OptionGroup var chunking: ChunkOptions
    @OptionGroup var splitOption: SplitOption

    func validate() throws {
        guard threshold.isFinite, threshold >= 0 else { throw ValidationError("--threshold must be a number of 0 or more (a lift), not \(threshold)") }
        guard minSupport >= 1 else { throw ValidationError("--min-support must be at least 1") }
        guard topk >= 1 else { throw ValidationError("--topk must be at least 1") }
    }

    func run() throws {
        try chunking.recordingFailure(of: .evidence, runFolder: runFolder) { try work() }
    }

    func work() throws {
        let run = try RunFolder(runFolder)
        let inputs = try run.verifyInputs(of: .evidence, force: force)
        let taskSet = try TaskSet.forRun(runFolder, override: tasks).selecting(task)
        let store = try LexiconStore(directory: lexicon)
        // The concepts of extract.jsonl are this lexicon's only if extract
        // used it: the same manifest (or, for older runs, build time).
        if !force, let extract = try RunManifest(directory: run.path).stage("extract") {
            func recorded(_ key: String) -> String? { extract.configuration.first { $0.0 == key }?.1.stringValue }
            let same: Bool
            if let manifest = recorded("lexicon_manifest") {
                same = manifest == (try sha256OfFile(atPath: store.directory + "/manifest.json"))
            } else {
                same = recorded("lexicon").map { $0 == store.manifest.createdAt } ?? true
            }
            guard same else {
                throw UsageError("""
                    \(lexicon): not the lexicon extract used (its manifest differs from the one run.json recorded for extract); \
                    pass extract's lexicon, re-run extract with this one, or pass --force
                    """)
            }
        }
        let graph = try RelationGraph.open(lexicon: store)
        let nodes = ConceptNodes(table: try store.loadConceptTable())
        var stage = EvidenceStage(search: searchOptions.search(graph, concepts: nodes.cuis), nodes: nodes,
                                  tasks: taskSet.tasks)
        stage.threshold = threshold
        stage.minimumSupport = minSupport
        stage.topK = topk
        stage.split = splitOption.split
        stage.relationWords = searchOptions.pathProfile == .meaning
        let chunk = try chunking.chunk()
        let configuration: [(String, JSONValue)] = [
            ("threshold", .number(threshold)), ("min_support", .integer(Int64(minSupport))), ("topk", .integer(Int64(topk))),
            ("tasks", .array(taskSet.tasks.map { .string($0.name) })), ("chunk_split", .string(chunking.chunkSplit.rawValue)),
            ("split", .string(splitOption.split.rawValue)),
            ("seed", .integer(Int64(chunking.seed))), ("lexicon", .string(store.manifest.createdAt)),
        ] + searchOptions.json
        let summary = try stage.run(run, inputs: inputs, configuration: configuration, chunk: chunk, strategy: chunking.strategy,
                                    saveEvery: chunking.saveEvery, progressLabel: "evidence \(chunk)", quiet: chunking.quiet)
        if chunking.json { print(summary.json.jsonText) }
    }
}

struct EvidenceMergeCommand: StageMergeCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Check every evidence chunk finished and merge them into RUN/evidence.jsonl.")
    static let stage = PipelineStage.evidence

    @OptionGroup var merge: MergeOptions
}

struct EvidencePathCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "path",
        abstract: "The shortest relation path between two terms (or concept ids), for a quick look.")

    @Option(help: "Lexicon folder.")
    var lexicon: String

    @Argument(help: "First term or concept id.")
    var from: String

    @Argument(help: "Second term or concept id.")
    var to: String

    @OptionGroup var searchOptions: SearchOptions

    func run() throws {
        let store = try LexiconStore(directory: lexicon)
        // One pair: read only the pages the search touches.
        let graph = try RelationGraph.open(lexicon: store, prefault: false)
        let nodes = ConceptNodes(table: try store.loadConceptTable())
        func resolve(_ text: String) throws -> [Int] {
            if let node = nodes.node(of: text) { return [node] }
            let found = try store.lookup(text).compactMap { nodes.node(of: $0.cui) }
            guard !found.isEmpty else { throw ValidationError("no concept named \"\(text)\" in \(lexicon)") }
            return found
        }
        let search = searchOptions.search(graph, concepts: nodes.cuis)
        let workspace = SearchWorkspace(nodeCount: graph.nodeCount)
        var best: (PathSearch.Path, Int)?
        var explored = 0, searched = 0, disconnected = 0
        for source in try resolve(from) {
            for goal in try resolve(to) {
                let result = search.search(from: source, to: goal, workspace: workspace)
                explored += result.explored
                searched += 1
                if result.disconnected { disconnected += 1 }
                if let path = result.path, best == nil || path.hops < best!.0.hops { best = (path, explored) }
            }
        }
        guard let (path, _) = best else {
            if disconnected == searched {
                print("no path between \"\(from)\" and \"\(to)\": no chain of relations joins them (different components of the graph)")
                throw ExitCode(1)
            }
            print("no path between \"\(from)\" and \"\(to)\" within \(searchOptions.hops) hops (\(explored) nodes explored)")
            throw ExitCode(1)
        }
        // Words for a reader; then the concept ids with the stored labels.
        print(nodes.render(path, graph: graph, words: true).joined(separator: " -> "))
        var ids = nodes.cuis[path.nodes[0]]
        for (index, label) in path.labels.enumerated() { ids += " -[\(graph.labels[label])]-> " + nodes.cuis[path.nodes[index + 1]] }
        print(ids)
        print("\(path.hops) hops, \(explored) nodes explored")
    }
}

struct EvidenceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark: path search on the memory-mapped graph against one SQL query per expansion (the reference's way).",
        discussion: """
            Random pairs of concepts with relations (seeded). With --generate NODES,EDGES a random graph of that size \
            is written to --graph first (UMLS scale: 4000000,30000000). Ours and the SQL baseline search the pairs in \
            turn for --rounds rounds; each side's median round is reported, with a digest of the paths it found. \
            --no-sql measures ours only.
            """)

    @Option(help: "Lexicon folder (its relation graph), unless --graph is given.")
    var lexicon: String?

    @Option(help: "A relation graph file.")
    var graph: String?

    @Option(help: "Write a random graph NODES,EDGES to --graph first.")
    var generate: String?

    @Option(help: "Pairs searched.")
    var pairs = 300

    @Option(help: "Seed of the pairs (and of a generated graph).")
    var seed: UInt64 = 1

    @Option(help: "Rounds over the pairs, ours and the baseline in turn; each side's median round is reported.")
    var rounds = 3

    @Flag(help: "Skip the SQL-per-expansion comparison.")
    var noSQL = false

    @Flag(help: "Search pairs in different connected components too, as the SQL baseline does, instead of answering them at once.")
    var noComponents = false

    @OptionGroup var searchOptions: SearchOptions

    func run() throws {
        var random = SplitMix64(seed: seed)
        if let generate {
            guard let path = graph else { throw ValidationError("--generate needs --graph FILE") }
            let sizes = generate.split(separator: ",").compactMap { Int($0) }
            guard sizes.count == 2, sizes[0] > 1, sizes[1] > 0 else { throw ValidationError("--generate NODES,EDGES") }
            let started = Date()
            try SearchBench.writeRandomGraph(nodes: sizes[0], edges: sizes[1], random: &random, to: path)
            print(String(format: "generated %d nodes, about %d edges in %.1f s", sizes[0], sizes[1], Date().timeIntervalSince(started)))
        }
        let opened = Date()
        let relationGraph: RelationGraph
        if let graph {
            relationGraph = try RelationGraph(path: graph)
        } else if let lexicon {
            relationGraph = try RelationGraph.open(lexicon: LexiconStore(directory: lexicon))
        } else {
            throw ValidationError("give --lexicon DIR or --graph FILE")
        }
        print(String(format: "graph: %d nodes, %d edges, opened in %.1f ms", relationGraph.nodeCount, relationGraph.edgeCount,
                     Date().timeIntervalSince(opened) * 1000))
        // The benchmark compares the search with the reference's own: its
        // rules (a generated graph has no concept ids to flag hubs by).
        var search = searchOptions.search(relationGraph, concepts: [])
        search.usesComponents = !noComponents
        let chosen = SearchBench.randomPairs(in: relationGraph, count: pairs, random: &random)
        let workspace = SearchWorkspace(nodeCount: relationGraph.nodeCount)
        var sql: SQLAdjacency?
        if !noSQL {
            let copied = Date()
            sql = try SQLAdjacency(copying: relationGraph)
            print(String(format: "SQL copy built in %.1f s", Date().timeIntervalSince(copied)))
        }
        // Rounds taken in turn, so that both sides see the machine's ups
        // and downs; each side's median round is reported.
        var ours: [SearchRound] = [], theirs: [SearchRound] = []
        for _ in 0..<max(1, rounds) {
            ours.append(search.timedRound(chosen, workspace: workspace))
            if let sql { theirs.append(search.timedRound(chosen, in: sql, workspace: workspace)) }
        }
        func median(_ rounds: [SearchRound]) -> SearchRound { rounds.sorted { $0.total < $1.total }[rounds.count / 2] }
        func report(_ name: String, _ rounds: [SearchRound]) -> SearchRound {
            let round = median(rounds)
            print(String(format: "%@: %.0f pairs/s, mean %.3f ms, p50 %.3f ms, p99 %.3f ms per pair (median of %d rounds; %@ pairs/s)",
                         name, round.pairsPerSecond, round.total / Double(pairs), round.percentile(0.5), round.percentile(0.99),
                         rounds.count, rounds.map { String(format: "%.0f", $0.pairsPerSecond) }.joined(separator: ", ")))
            print("paths found: \(round.hops.compactMap { $0 }.count) of \(pairs), digest \(String(round.digest, radix: 16)); "
                  + "\(round.disconnected) pairs in different components; nodes explored: \(round.explored / pairs) per pair")
            if Set(rounds.map(\.digest)).count > 1 { print("warning: rounds found different paths") }
            return round
        }
        let our = report("memory-mapped graph", ours)
        guard !theirs.isEmpty else { return }
        let their = report("SQL query per expansion", theirs)
        let same = zip(our.hops, their.hops).filter { $0 == $1 }.count
        print("SQL paths \(their.digest == our.digest ? "identical to" : "differ from") ours")
        print(String(format: "ratio: %.1fx faster per pair; identical path lengths: %d of %d", their.total / our.total, same, pairs))
    }
}

extension PathSearch.Profile: ExpressibleByArgument {}
