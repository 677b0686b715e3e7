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
        subcommands: [EvidenceRunCommand.self, EvidenceMergeCommand.self, EvidencePathCommand.self],
        defaultSubcommand: EvidenceRunCommand.self)
}

/// Relation-graph search options shared by the stage and `evidence path`.
struct SearchOptions: ParsableArguments {
    @Option(help: "Longest path, in relations.")
    var maxHops = 10

    @Option(help: "Stop after assembling this many paths.")
    var maxPaths = 10

    @Option(help: "Stop after reaching this many nodes.")
    var maxExplored = 2000

    @Option(help: "Relation labels never followed, comma-separated (default: the four the reference skips).")
    var skipRelations = PathSearch.referenceSkipped.joined(separator: ",")

    func search(_ graph: RelationGraph) -> PathSearch {
        var search = PathSearch(graph: graph, skipping: skipRelations.split(separator: ",").map {
            String($0).trimmingCharacters(in: .whitespaces)
        })
        search.maxHops = maxHops
        search.maxPaths = maxPaths
        search.maxExplored = maxExplored
        return search
    }

    var json: [(String, JSONValue)] {
        [("max_hops", .integer(Int64(maxHops))), ("max_paths", .integer(Int64(maxPaths))),
         ("max_explored", .integer(Int64(maxExplored))), ("skip_relations", .string(skipRelations))]
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

    func run() throws {
        let run = try RunFolder(runFolder)
        let inputs = [try run.verify("samples.jsonl", producedBy: "samples", force: force),
                      try run.verify("extract.jsonl", producedBy: "extract", force: force),
                      try run.verify("cooccur.sqlite", producedBy: "cooccur", force: force)]
        var taskSet = try tasks.map { try TaskSet(contentsOf: $0) } ?? TaskSet.standard()
        if let task {
            let wanted = Set(task.split(separator: ",").map(String.init))
            taskSet.tasks = taskSet.tasks.filter { wanted.contains($0.name) }
            guard !taskSet.tasks.isEmpty else { throw ValidationError("no task named \(task)") }
        }
        let store = try LexiconStore(directory: lexicon)
        let graph = try RelationGraph.open(lexicon: store)
        var stage = EvidenceStage(search: searchOptions.search(graph), nodes: ConceptNodes(table: try store.loadConceptTable()),
                                  tasks: taskSet.tasks)
        stage.threshold = threshold
        stage.minimumSupport = minSupport
        stage.topK = topk
        let chunk = try chunking.chunk()
        let configuration: [(String, JSONValue)] = [
            ("threshold", .number(threshold)), ("min_support", .integer(Int64(minSupport))), ("topk", .integer(Int64(topk))),
            ("tasks", .array(taskSet.tasks.map { .string($0.name) })), ("split", .string(chunking.split.rawValue)),
            ("seed", .integer(Int64(chunking.seed))), ("lexicon", .string(store.manifest.createdAt)),
        ] + searchOptions.json
        let summary = try stage.run(run, inputs: inputs, configuration: configuration, chunk: chunk, strategy: chunking.strategy,
                                    saveEvery: chunking.saveEvery, progressLabel: "evidence \(chunk)", quiet: chunking.quiet)
        if chunking.json { print(summary.json.jsonText) }
    }
}

struct EvidenceMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Check every evidence chunk finished and merge them into RUN/evidence.jsonl.")

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    @Flag(help: "Print the counts as one JSON line.")
    var json = false

    func run() throws {
        try StageMerge.run(stage: "evidence", runFolder: runFolder, inputs: ["samples.jsonl", "extract.jsonl", "cooccur.sqlite"],
                           json: json)
    }
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
        let graph = try RelationGraph.open(lexicon: store)
        let nodes = ConceptNodes(table: try store.loadConceptTable())
        func resolve(_ text: String) throws -> [Int] {
            if let node = nodes.node(of: text) { return [node] }
            let found = try store.lookup(text).compactMap { nodes.node(of: $0.cui) }
            guard !found.isEmpty else { throw ValidationError("no concept named \"\(text)\" in \(lexicon)") }
            return found
        }
        let search = searchOptions.search(graph)
        var best: (PathSearch.Path, Int)?
        var explored = 0
        for source in try resolve(from) {
            for goal in try resolve(to) {
                let result = search.search(from: source, to: goal)
                explored += result.explored
                if let path = result.path, best == nil || path.hops < best!.0.hops { best = (path, explored) }
            }
        }
        guard let (path, _) = best else {
            print("no path between \"\(from)\" and \"\(to)\" within \(searchOptions.maxHops) hops (\(explored) nodes explored)")
            throw ExitCode(1)
        }
        print(nodes.render(path, graph: graph).joined(separator: " -> "))
        print(path.nodes.map { nodes.cuis[$0] }.joined(separator: " -> "))
        print("\(path.hops) hops, \(explored) nodes explored")
    }
}
