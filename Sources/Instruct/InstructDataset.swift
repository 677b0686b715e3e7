import EHR
import Foundation
import Reasoning
import Runtime
import TGSupport

/// `export instruct`: the run's instruction data as a folder to share, in
/// the form of `dataset.jsonl` and its card: `templates.jsonl` (template
/// questions, answers from the record) and `notes.jsonl` (the pairs
/// `notes-filter` kept), every line with the same fields (null where a
/// pair has none), and a Hugging Face `README.md` with one config per
/// file, its features and size, where the data came from and the input's
/// licence terms. Only the chosen split's pairs go in (train by default:
/// test patients never reach training data).
public struct InstructDataset {
    /// A file of the folder: its config name, source in the run, fields and their YAML features.
    struct Part {
        var name: String
        var source: String
        var fields: [(String, String)]
    }

    static let parts: [Part] = [
        Part(name: "templates", source: "instruct-templates.jsonl", fields: [
            ("id", "dtype: string"), ("patient", "dtype: string"), ("split", "dtype: string"), ("source", "dtype: string"),
            ("template", "dtype: string"), ("kind", "dtype: string"), ("question", "dtype: string"), ("answer", "dtype: string"),
            ("events", "sequence: int64"), ("admission", "dtype: string"), ("slots", "sequence: string"),
            ("template_question", "dtype: string"), ("paraphrase_model", "dtype: string"),
        ]),
        Part(name: "notes", source: "instruct-notes.jsonl", fields: [
            ("id", "dtype: string"), ("patient", "dtype: string"), ("admission", "dtype: string"), ("split", "dtype: string"),
            ("source", "dtype: string"), ("question", "dtype: string"), ("answer", "dtype: string"), ("model", "dtype: string"),
            ("note_event", "dtype: int64"),
        ]),
    ]

    public var split = SplitSelection.train

    public init() {}

    public struct Summary: Sendable {
        /// Pairs written, by config.
        public var written: [String: Int] = [:]
        public var leftOut = 0
    }

    /// Writes the folder `output` from `run` (all or nothing per file; the
    /// card last). A run without any instruction data is an error.
    public func write(run: RunFolder, manifest: RunManifest, output: String) throws -> Summary {
        let present = Self.parts.filter { FileManager.default.fileExists(atPath: run.path + "/" + $0.source) }
        guard !present.isEmpty else {
            throw UsageError("\(run.path): no instruction data (run `thinkgraph instruct templates` or `instruct notes-filter` first)")
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var summary = Summary()
        for part in present {
            let source = run.path + "/" + part.source
            let writer = try JSONLinesWriter(path: output + "/\(part.name).jsonl")
            let reader = try LineReader(path: source)
            var count = 0
            while let line = try reader.nextLine() {
                guard !line.isEmpty else { continue }
                let value = try JSONValue.parse(line)
                guard let side = value["split"]?.stringValue.flatMap(Split.init(rawValue:)) else {
                    throw InputError(file: source, line: reader.lineNumber, field: "split", message: "missing or not train/test")
                }
                guard split.admits(side) else {
                    summary.leftOut += 1
                    continue
                }
                try writer.writeLine(.object(part.fields.map { ($0.0, value[$0.0] ?? .null) }))
                count += 1
            }
            try writer.commit()
            summary.written[part.name] = count
        }
        let card = try JSONLinesWriter(path: output + "/README.md")
        try card.writeLine(text(summary: summary, present: present, manifest: manifest, runName: (run.path as NSString).lastPathComponent))
        try card.commit()
        return summary
    }

    func text(summary: InstructDataset.Summary, present: [Part], manifest: RunManifest, runName: String) -> String {
        let total = summary.written.values.reduce(0, +)
        let imported = manifest.stage("import")
        let format = imported?.configuration.first { $0.0 == "format" }?.1.stringValue ?? "unknown"
        var lines = ["---", "pretty_name: thinkgraph instruction data (\(runName))", "license: other", "language:", "- en",
                     "task_categories:", "- question-answering", "- text-generation",
                     "tags:", "- medical", "- electronic-health-records", "- instruction-tuning", "- thinkgraph",
                     "size_categories:", "- \(DatasetCard.sizeCategory(total))", "configs:"]
        for (index, part) in present.enumerated() {
            lines += ["- config_name: \(part.name)", "  data_files:", "  - split: \(split == .test ? "test" : "train")",
                      "    path: \(part.name).jsonl"]
            if index == 0 { lines.append("  default: true") }
        }
        lines.append("dataset_info:")
        for part in present {
            lines += ["- config_name: \(part.name)", "  features:"]
            for (name, type) in part.fields { lines += ["  - name: \(name)", "    \(type)"] }
            lines += ["  splits:", "  - name: \(split == .test ? "test" : "train")", "    num_examples: \(summary.written[part.name] ?? 0)"]
        }
        lines += ["---", "", "# thinkgraph instruction data: \(runName)", "",
                  "Instruction data made by thinkgraph from the patients of one run, in the two kinds MIMIC-Instr (LLEMR) builds.", ""]
        if let count = summary.written["templates"] {
            let stage = manifest.stage("instruct_templates")
            let paraphrase = stage?.configuration.first { $0.0 == "paraphrase_model" }?.1.stringValue
            lines += ["## templates (\(count) pairs)", "",
                      "Questions made from each patient's events by templates (`instruct templates`); every answer is computed from the "
                      + "record, and `events` lists the events it reads (indices into the patient's timeline). "
                      + (paraphrase.map { "Questions were reworded by \($0) where the rewording kept every value in `slots`; the template's wording is in `template_question`. " } ?? "")
                      + "Template file: \(stage?.configuration.first { $0.0 == "templates" }?.1.stringValue ?? "-").", ""]
        }
        if let count = summary.written["notes"] {
            lines += ["## notes (\(count) pairs)", "",
                      "Pairs a model (`model`) wrote about an admission's events after reading them and its discharge note "
                      + "(`instruct notes`), kept by `instruct notes-filter`: the answer cites events of the admission that exist at "
                      + "the cited times, its values with units are values of those events, and neither question nor answer repeats "
                      + "a run of eight words of the note. `note_event` is the note's index in the patient's timeline.", ""]
        }
        lines += ["## Splits", "", "Patients keep the split of the run's samples (`samples --seed`, `--test-fraction`); this folder holds the "
                  + "\(split.rawValue) patients' pairs\(summary.leftOut > 0 ? " (\(summary.leftOut) of the other split left out)" : "").", "",
                  "## Licence notes", "", DatasetCard.licenceNote(format: format), ""]
        return lines.joined(separator: "\n")
    }
}
