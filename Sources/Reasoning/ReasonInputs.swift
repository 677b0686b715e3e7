import EHR
import Foundation
import LLM
import Runtime
import TGSupport

/// One sample's evidence as the prompt uses it: the evidence stage's
/// record, with its paths made distinct (the same path can join several
/// pairs) and as knowledge lines, which a small context window trims.
public struct SampleEvidence: Sendable {
    public var id: String { record.id }
    public var task: String { record.task }
    public var status: EvidenceRecord.Status { record.status }
    public var split: Split
    /// Relation paths, each `term -> relation -> term ...`, without repeats.
    public var knowledge: [String]
    /// The same paths as their steps.
    public var paths: [[String]]
    /// The record as written (pairs and every path, never trimmed).
    public let record: EvidenceRecord
    /// Pairs and paths, for the reasoning record and curators.
    public var graph: JSONValue { record.graph }

    public init(json value: JSONValue, file: String, line: Int?) throws {
        try self.init(EvidenceRecord(json: value, file: file, line: line), file: file, line: line)
    }

    public init(_ record: EvidenceRecord, file: String, line: Int?) throws {
        guard let split = Split(rawValue: record.split) else {
            throw InputError(file: file, line: line, field: "split", message: "expected train or test, got \(record.split)")
        }
        self.record = record
        self.split = split
        var lines: [String] = []
        var paths: [[String]] = []
        for path in record.paths where !lines.contains(path.line) {
            lines.append(path.line)
            paths.append(path.steps)
        }
        knowledge = lines
        self.paths = paths
    }
}

/// What the reasoning stage reads of a run, and how it turns one sample
/// into a prompt: rendered context under a token budget, knowledge lines,
/// ground truth, instruction. Not for concurrent use (it caches).
public final class ReasonInputs {
    public let run: RunFolder
    public let tasks: [String: TaskDefinition]
    /// How contexts are rendered (the run's task file).
    public let format: ContextFormat
    private let samples: RecordIndex
    private let patients: RecordIndex
    /// The patients decoded last, most recent first. A patient has dozens
    /// of samples and evidence lists them patient by patient, so a few
    /// entries spare nearly every parse of a (large) timeline.
    private var recentPatients: [Patient] = []
    private static let recentPatientLimit = 8

    public init(run: RunFolder, tasks: TaskSet) throws {
        self.run = run
        self.tasks = Dictionary(tasks.tasks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        format = tasks.format
        samples = try RecordIndex(path: run.samples)
        patients = try RecordIndex(path: run.patients, key: "patient")
    }

    /// Every evidence record in file order.
    public func forEachEvidence(_ body: (SampleEvidence) throws -> Void) throws {
        let path = run.merged("evidence")
        let reader = try LineReader(path: path)
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            try body(SampleEvidence(json: JSONValue.parse(line), file: path, line: reader.lineNumber))
        }
    }

    /// The sample and its patient.
    public func load(_ id: String) throws -> (sample: Sample, patient: Patient) {
        guard let value = try samples.record(id) else {
            throw InputError(file: run.samples, field: "id", message: "no sample \"\(id)\" (evidence.jsonl names it)")
        }
        let sample = try Sample(json: value, file: run.samples, line: nil)
        return (sample, try patient(sample.patient, of: id))
    }

    /// The decoded timeline of `id`, from the recent ones when it is there.
    private func patient(_ id: String, of sampleID: String) throws -> Patient {
        if let index = recentPatients.firstIndex(where: { $0.id == id }) {
            let patient = recentPatients.remove(at: index)
            recentPatients.insert(patient, at: 0)
            return patient
        }
        let patient = try Patient.decoded(patients.record(id), id: id, sampleID: sampleID, file: run.patients)
        recentPatients.insert(patient, at: 0)
        if recentPatients.count > Self.recentPatientLimit { recentPatients.removeLast() }
        return patient
    }

    /// The ICD-10-CM codes of the sample's target event (records coded as
    /// ICD-10), for the DeepICD template and its scoring.
    public static func targetCodes(_ sample: Sample, of patient: Patient) -> [String] {
        guard patient.events.indices.contains(sample.targetEvent) else { return [] }
        var codes: [String] = []
        for record in patient.events[sample.targetEvent].records {
            let isTen = record["icd_version"]?.description == "10" || record["code_system"]?.description == "ICD-10-CM"
            guard isTen, let code = (record["icd_code"] ?? record["code"])?.description else { continue }
            let normalised = code.replacingOccurrences(of: ".", with: "").uppercased()
            if !normalised.isEmpty && !codes.contains(normalised) { codes.append(normalised) }
        }
        return codes
    }
}

/// One sample made ready to send: everything but the context's budget is
/// fixed; the context can be rendered again smaller.
public struct PreparedSample: Sendable {
    public var evidence: SampleEvidence
    public var sample: Sample
    public var patient: Patient
    public var instruction: String
    public var targetCodes: [String]
    public var format: ContextFormat
    /// Knowledge paths left out to fit the model's context.
    public var droppedKnowledge = 0

    /// Leaves out the second half of the knowledge paths (the weakest
    /// pairs come last), keeping at least one; false when there is nothing
    /// left to give up.
    public mutating func trimKnowledge(template: PromptTemplate) -> Bool {
        let count = evidence.knowledge.count
        guard template.usesKnowledge, count > 1 else { return false }
        evidence.knowledge.removeLast(count / 2)
        evidence.paths.removeLast(min(count / 2, evidence.paths.count))
        droppedKnowledge += count / 2
        return true
    }

    /// An ICD-10-CM code as it is written (A01.23), from its stored form.
    static func dotted(_ code: String) -> String {
        code.count > 3 ? String(code.prefix(3)) + "." + String(code.dropFirst(3)) : code
    }

    /// The values of the prompt with the context under `budget` tokens.
    public func values(budget: Int, template: PromptTemplate) -> (values: PromptValues, dropped: Int) {
        let rendered = TimelineRenderer(format: format).render(sample, of: patient, maxTokens: budget)
        var truth = sample.targets
        if template.format == .deepicd {
            truth = targetCodes.map(Self.dotted) + sample.targets.map { "(" + $0 + ")" }
        }
        return (PromptValues(instruction: instruction, context: rendered.text, knowledge: template.usesKnowledge ? evidence.knowledge : [],
                             knowledgePaths: template.usesKnowledge ? evidence.paths : [], groundTruth: truth, task: sample.task),
                rendered.dropped)
    }
}
