import EHR
import Extraction
import Foundation
import Runtime
import TGSupport

/// Stage 2 for one chunk of patients: counts the training samples of every
/// task into a partial matrix (`RUN/cooccur/CHUNK.sqlite`).
///
/// T (targets) = the concepts of the target event's task key; H (history)
/// = every concept of the context events; each concept once per sample.
/// Negated and family mentions are left out of the history unless asked.
/// A chunk is all or nothing: its file is written under a temporary name
/// and renamed, then marked done; a killed worker simply redoes its chunk.
public struct CooccurStage {
    public var tasks: [TaskDefinition]
    public var chunk: Chunk
    public var strategy: ChunkStrategy
    public var historyRule = HistoryRule()

    public init(tasks: [TaskDefinition], chunk: Chunk, strategy: ChunkStrategy) {
        self.tasks = tasks
        self.chunk = chunk
        self.strategy = strategy
    }

    public struct Summary: Sendable {
        public var patients = 0
        public var samples = 0
        public var pairs = 0
        public var alreadyComplete = false
        public var json: JSONValue {
            .object([("patients", .integer(Int64(patients))), ("samples", .integer(Int64(samples))),
                     ("distinct_pairs", .integer(Int64(pairs)))])
        }
    }

    /// Event index → the event's concepts, interned, each marked when the
    /// history rule leaves it out.
    private func concepts(of record: JSONValue, counts: inout CooccurrenceCounts, file: String) throws
        -> [Int: [(id: UInt32, field: String, surface: String, excluded: Bool)]] {
        try PatientConcepts.byEvent(record, file: file).mapValues { concepts in
            concepts.map { (counts.intern($0.concept, name: $0.name), $0.field, $0.surface, !historyRule.admits($0)) }
        }
    }

    /// `inputs` are the checksums of the files read; with the configuration
    /// they form the fingerprint a finished chunk is recognised by (a chunk
    /// finished on other inputs is counted again).
    public func run(_ run: RunFolder, inputs: [String], configuration: [(String, JSONValue)], progressLabel: String,
                    quiet: Bool) throws -> Summary {
        let chunkRun = try WholeFileChunkRun(stage: "cooccur", suffix: ".sqlite", run: run, inputs: inputs,
                                             configuration: configuration, chunk: chunk, strategy: strategy)
        var summary = Summary()
        if chunkRun.isComplete {
            summary.alreadyComplete = true
            return summary
        }
        let byTask = Dictionary(uniqueKeysWithValues: tasks.map { ($0.name, $0) })

        // Where each patient's concepts are in extract.jsonl (one offset per
        // patient), and which patients are this chunk's.
        let extractPath = run.merged("extract")
        let extract = try RecordIndex(path: extractPath)
        chunkRun.choose(among: extract.order, progressLabel: progressLabel, quiet: quiet)

        // Samples are streamed; consecutive samples of one patient share its
        // parsed concepts. Memory holds one patient and the counts.
        var counts = CooccurrenceCounts()
        var cachedPatient: String?
        var eventConcepts: [Int: [(id: UInt32, field: String, surface: String, excluded: Bool)]] = [:]
        var seenPatients = Set<String>()
        let reader = try LineReader(path: run.samples)
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            let sample = try Sample(json: JSONValue.parse(line), file: run.samples, line: reader.lineNumber)
            guard sample.split == .train, let task = byTask[sample.task], chunkRun.owns(sample.patient) else { continue }
            if sample.patient != cachedPatient {
                guard let record = try extract.record(sample.patient) else {
                    throw InputError(file: extractPath, field: "id",
                                     message: "no concepts for patient \"\(sample.patient)\" (extract and samples disagree; re-run extract)")
                }
                eventConcepts = try concepts(of: record, counts: &counts, file: extractPath)
                cachedPatient = sample.patient
                if seenPatients.insert(sample.patient).inserted {
                    summary.patients += 1
                    chunkRun.advance()
                }
            }
            var seen = Set<UInt32>()
            let items = Set(sample.targets)
            let targets = (eventConcepts[sample.targetEvent] ?? []).filter {
                !$0.excluded && TargetConcepts.admits(field: $0.field, surface: $0.surface, task: task, targets: items)
                    && seen.insert($0.id).inserted
            }.map(\.id)
            // A sample whose targets link to no concept still counts, as in
            // EHR-R1: in N and in n(c) of its history (docs/DIFFERENCES.md).
            seen.removeAll(keepingCapacity: true)
            var history: [UInt32] = []
            for index in sample.contextEvents {
                for concept in eventConcepts[index] ?? [] where !concept.excluded && seen.insert(concept.id).inserted {
                    history.append(concept.id)
                }
            }
            counts.add(task: sample.task, targets: targets, history: history)
            summary.samples += 1
        }
        // Patients of the chunk with only test samples have nothing to
        // count (the progress line counts them done at the finish).
        summary.pairs = counts.pairCount
        try chunkRun.finish(summary: summary.json) { partial in try counts.write(to: partial) }
        return summary
    }
}
