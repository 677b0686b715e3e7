import Cooccurrence
import EHR
import Extraction
import Foundation
import Lexicon
import Runtime
import TGSupport

/// Graph nodes by concept id and back (positions in the concept table).
public struct ConceptNodes: Sendable {
    public let cuis: [String]
    public let names: [String]
    private let node: [String: Int]

    public init(table: ConceptTable) {
        cuis = table.concepts.map(\.cui)
        names = table.concepts.map(\.preferredName)
        var node: [String: Int] = [:]
        for (index, cui) in cuis.enumerated() { node[cui] = index }
        self.node = node
    }

    public func node(of concept: String) -> Int? { node[concept] }

    /// A path as `[term, relation, term, ...]`; with `ends`, the first and
    /// last terms are those strings (the patient's own words for the target
    /// and the history concept, as the reference writes its paths).
    public func render(_ path: PathSearch.Path, graph: RelationGraph, ends: (String, String)? = nil, words: Bool = false) -> [String] {
        var parts = [names[path.nodes[0]]]
        for (index, label) in path.labels.enumerated() {
            parts.append(words ? RelationWords.phrase(graph.labels[label]) : graph.labels[label])
            parts.append(names[path.nodes[index + 1]])
        }
        if let ends, parts.count >= 3 {
            parts[0] = ends.0
            parts[parts.count - 1] = ends.1
        }
        return parts
    }
}

/// Stage 3 for one chunk of samples: for each sample, its strongest
/// target/history concept pairs (lift above the threshold, history support
/// at least `minimumSupport`, top-k per target) and the shortest relation
/// path of each pair; one JSONL record per sample, with `status` `graph`,
/// `no_path` (pairs, but no path within the limits) or `no_pairs`.
public struct EvidenceStage {
    public var search: PathSearch
    public var nodes: ConceptNodes
    public var tasks: [TaskDefinition]
    public var threshold = 5.0
    public var minimumSupport = 5
    public var topK = 20
    public var historyRule = HistoryRule()
    /// The samples worked on: training patients' by default.
    public var split = SplitSelection.train
    /// Relations written as words (`may treat`) rather than labels.
    public var relationWords = false

    public init(search: PathSearch, nodes: ConceptNodes, tasks: [TaskDefinition]) {
        self.search = search
        self.nodes = nodes
        self.tasks = tasks
    }

    public struct Summary: Sendable {
        public var samples = 0
        public var skipped = 0
        public var withGraph = 0
        public var noPath = 0
        public var noPairs = 0
        public var pairs = 0
        public var paths = 0
        public var json: JSONValue {
            .object([("samples", .integer(Int64(samples))), ("resumed", .integer(Int64(skipped))),
                     ("with_graph", .integer(Int64(withGraph))), ("no_path", .integer(Int64(noPath))),
                     ("no_pairs", .integer(Int64(noPairs))), ("pairs", .integer(Int64(pairs))), ("paths", .integer(Int64(paths)))])
        }
    }

    public func run(_ run: RunFolder, inputs: [String], configuration: [(String, JSONValue)], chunk: Chunk,
                    strategy: ChunkStrategy, saveEvery: Int, progressLabel: String, quiet: Bool) throws -> Summary {
        let chunkRun = try StageChunkRun(stage: "evidence", run: run, inputs: inputs, configuration: configuration, chunk: chunk,
                                         strategy: strategy, saveEvery: saveEvery)
        var summary = Summary()
        if chunkRun.isComplete {
            summary.skipped = chunkRun.writer.resumed
            return summary
        }
        let byTask = Dictionary(uniqueKeysWithValues: tasks.map { ($0.name, $0) })
        // The ids of the split's samples in file order, for the chunk split.
        let ids = try Sample.splits(in: run.samples).filter { split.admits($0.split) }.map(\.id)
        chunkRun.choose(among: ids, progressLabel: progressLabel, quiet: quiet)

        let extract = try RecordIndex(path: run.merged("extract"))
        let matrix = try CooccurrenceMatrix(path: run.path + "/cooccur.sqlite")
        var partnersCache: [String: [(history: String, lift: Double, count: Int)]] = [:]
        var cachedPatient: String?
        var concepts: [Int: [LinkedConcept]] = [:]
        let workspace = SearchWorkspace(nodeCount: search.graph.nodeCount)

        let reader = try LineReader(path: run.samples)
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            let sample = try Sample(json: JSONValue.parse(line), file: run.samples, line: reader.lineNumber)
            guard chunkRun.owns(sample.id) else { continue }
            try chunkRun.produce(sample.id) {
                guard let task = byTask[sample.task] else { return nil }
                if sample.patient != cachedPatient {
                    concepts = try extract.record(sample.patient).map { try PatientConcepts.byEvent($0, file: extract.path) } ?? [:]
                    cachedPatient = sample.patient
                }
                var targets: [String] = []
                // The patient's own words for each concept: the first surface
                // seen, in the target event or the context.
                var surfaces: [String: String] = [:]
                let items = Set(sample.targets)
                for concept in concepts[sample.targetEvent] ?? []
                where TargetConcepts.admits(field: concept.field, surface: concept.surface, task: task, targets: items)
                    && historyRule.admits(concept) && !targets.contains(concept.concept) {
                    targets.append(concept.concept)
                    if !concept.surface.isEmpty { surfaces[concept.concept] = concept.surface }
                }
                var history = Set<String>()
                for index in sample.contextEvents {
                    for concept in concepts[index] ?? [] where historyRule.admits(concept) {
                        history.insert(concept.concept)
                        if surfaces[concept.concept] == nil, !concept.surface.isEmpty { surfaces[concept.concept] = concept.surface }
                    }
                }
                // The sample's pairs: per target, its history partners above
                // the threshold, strongest first, top k.
                var pairs: [EvidenceRecord.Pair] = []
                var paths: [EvidenceRecord.Path] = []
                for target in targets {
                    let key = sample.task + "\u{0}" + target
                    if partnersCache[key] == nil {
                        if partnersCache.count > 50_000 { partnersCache.removeAll() }
                        partnersCache[key] = try matrix.historyPartners(task: sample.task, target: target, above: threshold,
                                                                        minimumSupport: minimumSupport)
                    }
                    for partner in partnersCache[key]!.lazy.filter({ history.contains($0.history) && $0.history != target }).prefix(topK) {
                        pairs.append(EvidenceRecord.Pair(target: target, history: partner.history, lift: partner.lift, count: partner.count))
                        guard let from = nodes.node(of: target), let to = nodes.node(of: partner.history),
                              let path = search.search(from: from, to: to, workspace: workspace).path else { continue }
                        let steps = nodes.render(path, graph: search.graph, ends: (surfaces[target] ?? nodes.names[from],
                                                                                    surfaces[partner.history] ?? nodes.names[to]),
                                                 words: relationWords)
                        paths.append(EvidenceRecord.Path(target: target, history: partner.history, steps: steps,
                                                         concepts: path.nodes.map { nodes.cuis[$0] }, hops: path.hops))
                    }
                }
                let record = EvidenceRecord(id: sample.id, task: sample.task, split: sample.split.rawValue, targets: targets,
                                            pairs: pairs, paths: paths)
                switch record.status {
                case .graph: summary.withGraph += 1
                case .noPath: summary.noPath += 1
                case .noPairs: summary.noPairs += 1
                }
                summary.samples += 1
                summary.pairs += pairs.count
                summary.paths += paths.count
                return record.json
            }
        }
        summary.skipped = chunkRun.resumed
        try chunkRun.finish(configuration: configuration, summary: summary.json)
        return summary
    }
}

/// Relation labels as words a model reads along a path. A label `L` on the
/// edge A → B says "B L A" (UMLS's MRREL convention: RELA is what the second
/// concept is to the first), so A → B reads "A (reverse of L) B":
/// `inverse_isa` reads "is a", `isa` "has subtype", `inverse_may_treat`
/// "may treat", `may_treat` "may be treated by".
public enum RelationWords {
    /// Forward phrases of predicates ("drug may_treat condition").
    static let forward: [String: String] = [
        "isa": "is a", "may_treat": "may treat", "procedure_for": "is a procedure for", "observed_in": "is monitored in",
        "symptom_of": "is a symptom of", "has_ingredient": "has ingredient", "has_finding_site": "has finding site",
        "has_phenotype": "has phenotype",
    ]
    /// Their reverse readings.
    static let reverse: [String: String] = [
        "isa": "has subtype", "may_treat": "may be treated by", "procedure_for": "may be managed with",
        "observed_in": "is monitored with", "symptom_of": "has symptom", "has_ingredient": "is an ingredient of",
        "has_finding_site": "is the finding site of", "has_phenotype": "is a phenotype of",
        "PAR": "has parent", "CHD": "has child", "RB": "has broader", "RN": "has narrower", "SIB": "has sibling",
    ]
    /// Relations that read the same both ways.
    static let symmetric: Set<String> = ["associated_with", "RO", "RL", "RQ", "SY"]

    public static func phrase(_ label: String) -> String {
        if label.hasPrefix("inverse_") {
            let predicate = String(label.dropFirst(8))
            return forward[predicate] ?? words(predicate)
        }
        if let known = reverse[label] { return known }
        if symmetric.contains(label) { return words(label) }
        return words(label) + " (reversed)"
    }

    static func words(_ label: String) -> String { label.replacingOccurrences(of: "_", with: " ") }
}
