import EHR
import Foundation
import Runtime
import TGSupport

/// The test patients' samples as an evaluation set (`RUN/eval.jsonl`): per
/// sample its id, task, instruction, the rendered context a model reads,
/// the targets and the evidence graph (when evidence ran on the test split,
/// `evidence --split test` or `all`). Test patients never reach the
/// training dataset; this is where they go instead.
public struct EvalExport {
    public var maxContextTokens: Int?
    /// Test samples by default; `all` renders every sample (an audit).
    public var split = SplitSelection.test

    public init(maxContextTokens: Int? = nil, split: SplitSelection = .test) {
        self.maxContextTokens = maxContextTokens
        self.split = split
    }

    public struct Summary: Sendable {
        public var samples = 0
        public var withGraph = 0
        public var byTask: [String: Int] = [:]
    }

    public func run(_ run: RunFolder, tasks: TaskSet, output path: String) throws -> Summary {
        let patients = try RecordIndex(path: run.patients, key: "patient")
        let evidencePath = run.merged("evidence")
        let evidence = FileManager.default.fileExists(atPath: evidencePath) ? try RecordIndex(path: evidencePath) : nil
        let renderer = TimelineRenderer(format: tasks.format)
        let instructions = Dictionary(tasks.tasks.map { ($0.name, $0.instruction) }, uniquingKeysWith: { first, _ in first })
        let output = try JSONLinesWriter(path: path)
        var summary = Summary()
        var cached: Patient?
        let reader = try LineReader(path: run.samples)
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            let sample = try Sample(json: JSONValue.parse(line), file: run.samples, line: reader.lineNumber)
            guard split.admits(sample.split) else { continue }
            if cached?.id != sample.patient {
                cached = try Patient.decoded(patients.record(sample.patient), id: sample.patient, sampleID: sample.id, file: run.patients)
            }
            let context = renderer.render(sample, of: cached!, maxTokens: maxContextTokens).text
            var graph = EvidenceRecord.emptyGraph
            if let evidence, let value = try evidence.record(sample.id) {
                let record = try EvidenceRecord(json: value, file: evidence.path, line: nil)
                graph = record.graph
                if record.status == .graph { summary.withGraph += 1 }
            }
            try output.writeLine(.object([
                ("id", .string(sample.id)), ("task", .string(sample.task)), ("patient", .string(sample.patient)),
                ("split", .string(sample.split.rawValue)), ("target_time", .string(sample.targetTime.description)),
                ("instruction", .string(instructions[sample.task] ?? "")), ("input", .string(context)),
                ("target", .array(sample.targets.map { .string($0) })), ("graph", graph),
            ]))
            summary.samples += 1
            summary.byTask[sample.task, default: 0] += 1
        }
        try output.commit()
        return summary
    }
}
