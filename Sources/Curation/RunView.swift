import EHR
import Foundation
import Runtime
import TGSupport

/// Read-only access to a run folder for curators: any sample as an
/// `Example`, whatever stages have run. Not for concurrent use.
public final class RunView {
    public let run: RunFolder
    let samples: RecordIndex
    let patients: RecordIndex
    let extract: StageRecords
    let evidence: StageRecords
    let reasoning: StageRecords
    let verdicts: StageRecords
    let tasks: [String: TaskDefinition]
    let format: ContextFormat

    /// Opens a run for reading; refuses one whose stages read inputs that
    /// were written again since (their records would show one cohort's
    /// samples with another's events), unless `force`.
    public init(_ path: String, force: Bool = false) throws {
        run = try RunFolder(path)
        if !force, let stale = try RunManifest(directory: path).staleness() {
            throw UsageError("\(path): \(stale) (or pass --force to look anyway)")
        }
        guard FileManager.default.fileExists(atPath: run.samples) else {
            throw InputError(file: run.samples, message: "no sample index: run `thinkgraph samples --run \(path)` first")
        }
        samples = try RecordIndex(path: run.samples)
        patients = try RecordIndex(path: run.patients, key: "patient")
        extract = try StageRecords(run: run, stage: "extract")
        evidence = try StageRecords(run: run, stage: "evidence")
        reasoning = try StageRecords(run: run, stage: "reasoning")
        verdicts = try StageRecords(run: run, stage: "filter", merged: run.path + "/filter.jsonl")
        let taskSet = try TaskSet.forRun(run.path)
        format = taskSet.format
        tasks = Dictionary(taskSet.tasks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The chains with the lowest grounding scores: (sample id, chain index,
    /// score), worst first, ties by id.
    public func leastGrounded(_ count: Int) throws -> [(id: String, chain: Int, score: Double)] {
        var found: [(id: String, chain: Int, score: Double)] = []
        try verdicts.forEach { value in
            let record = try VerdictRecord(json: value, file: run.path + "/filter.jsonl", line: nil)
            for (index, verdict) in record.verdicts.enumerated() {
                if let score = verdict.grounding?.score, score < 1 { found.append((record.id, index, score)) }
            }
        }
        return Array(found.sorted { ($0.score, $0.id, $0.chain) < ($1.score, $1.id, $1.chain) }.prefix(count))
    }

    /// Sample ids in the order of the sample index.
    public var sampleIDs: [String] { samples.order }

    /// The task of a sample, read from its record.
    public func task(of id: String) throws -> String? { try samples.record(id).map { try Sample(json: $0, file: run.samples, line: nil).task } }

    /// One sample as a curator sees it. `complete: false` leaves out what
    /// costs most and choosing examples does not need: rendering a context
    /// the model's record lacks, and naming concepts from extraction.
    public func example(_ id: String, complete: Bool = true) throws -> Example {
        guard let value = try samples.record(id) else {
            throw InputError(file: run.samples, field: "id", message: "no sample \"\(id)\"")
        }
        let sample = try Sample(json: value, file: run.samples, line: nil)
        var example = Example(id: id, task: sample.task, instruction: tasks[sample.task]?.instruction ?? "", targets: sample.targets,
                              context: "", evidenceStatus: nil, pairs: [], paths: [], reasoningStatus: nil, reasoningError: nil,
                              model: nil, droppedPaths: 0, chains: [])
        if let record = try evidence.decoded(id, EvidenceRecord.init) { Self.read(record, into: &example) }
        if let record = try reasoning.decoded(id, ReasoningRecord.init) { Self.read(record, into: &example) }
        if let record = try verdicts.decoded(id, VerdictRecord.init) { Self.read(record, into: &example) }
        if complete {
            if example.context.isEmpty { example.context = try render(sample) }
            try name(&example, patient: sample.patient)
        }
        return example
    }

    /// Names the concepts of the pairs: from the paths' terms, then from
    /// the names extraction gave them in this patient's events.
    func name(_ example: inout Example, patient: String) throws {
        for path in example.paths where path.concepts.count == path.terms.count {
            for (concept, term) in zip(path.concepts, path.terms) { example.names[concept] = term }
        }
        var wanted = Set(example.pairs.flatMap { [$0.target, $0.history] }).subtracting(example.names.keys)
        guard !wanted.isEmpty, let record = try extract.decoded(patient, ExtractRecord.init) else { return }
        for concept in record.events.lazy.flatMap(\.concepts) where wanted.contains(concept.concept) {
            example.names[concept.concept] = concept.name
            wanted.remove(concept.concept)
        }
    }

    func render(_ sample: Sample) throws -> String {
        let patient = try Patient.decoded(patients.record(sample.patient), id: sample.patient, sampleID: sample.id, file: run.patients)
        return TimelineRenderer(format: format).render(sample, of: patient, maxTokens: 6000).text
    }

    static func read(_ record: EvidenceRecord, into example: inout Example) {
        example.evidenceStatus = record.status.rawValue
        example.pairs = record.pairs
        example.paths = record.paths
    }

    static func read(_ record: ReasoningRecord, into example: inout Example) {
        example.reasoningStatus = record.status.rawValue
        if record.status == .skipped, let reason = record.reason { example.reasoningError = "skipped: " + reason }
        guard let asked = record.asked else { return }
        example.model = asked.model
        example.droppedPaths = asked.droppedPaths
        if let error = asked.error { example.reasoningError = error.message }
        example.context = asked.context
        if !asked.instruction.isEmpty { example.instruction = asked.instruction }
        example.chains = asked.completions.map {
            Chain(text: $0.text, finishReason: $0.finishReason, kept: nil, reasons: [], coverage: nil)
        }
    }

    static func read(_ record: VerdictRecord, into example: inout Example) {
        for (index, verdict) in record.verdicts.enumerated() where example.chains.indices.contains(index) {
            example.chains[index].kept = verdict.kept
            example.chains[index].reasons = verdict.reasons
            example.chains[index].coverage = verdict.coverage
            example.chains[index].grounding = verdict.grounding
        }
    }
}
