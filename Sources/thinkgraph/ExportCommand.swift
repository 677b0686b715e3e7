import ArgumentParser
import EHR
import Foundation
import Instruct
import Reasoning
import Runtime
import TGSupport

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write parts of a run for use elsewhere.",
        subcommands: [ExportEvalCommand.self, ExportLLM4EHRCommand.self, ExportInstructCommand.self])
}

struct ExportEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Write the test patients' samples as an evaluation set (RUN/eval.jsonl).",
        discussion: """
            One line per test sample: id, task, patient, instruction, the rendered context (input), the targets and its \
            evidence graph (empty unless evidence ran with --split test or all). Test patients never reach dataset.jsonl.
            """)

    @Option(name: .customLong("run"), help: "Run folder (after `samples`).")
    var runFolder: String

    @Option(help: "Output file (default: RUN/eval.jsonl).")
    var out: String?

    @Option(help: "Token budget of each rendered context (oldest events dropped first; default: none).")
    var maxContextTokens: Int?

    @Option(help: "Which patients: test (the default), or train / all to audit what the model would read.")
    var split: SplitSelection = .test

    @Flag(help: "Print the counts as one JSON line.")
    var json = false

    func run() throws {
        let run = try RunFolder(runFolder)
        guard FileManager.default.fileExists(atPath: run.samples) else {
            throw InputError(file: run.samples, message: "no sample index: run `thinkgraph samples --run \(runFolder)` first")
        }
        if let maxContextTokens, maxContextTokens < 1 { throw ValidationError("--max-context-tokens must be at least 1") }
        let path = out ?? run.path + "/eval.jsonl"
        let summary = try EvalExport(maxContextTokens: maxContextTokens, split: split).run(run, tasks: try TaskSet.forRun(runFolder), output: path)
        if json {
            print(JSONValue.object([("samples", .integer(Int64(summary.samples))), ("with_graph", .integer(Int64(summary.withGraph))),
                                    ("tasks", .object(summary.byTask.keys.sorted().map { ($0, .integer(Int64(summary.byTask[$0]!))) }))]).jsonText)
        } else {
            print("export eval: \(summary.samples) \(split == .all ? "" : split.rawValue + " ")samples (\(summary.withGraph) with a graph) -> \(path)")
        }
    }
}

struct ExportInstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instruct",
        abstract: "Write the run's instruction data as a folder to share: templates.jsonl, notes.jsonl and a dataset card.",
        discussion: """
            Takes RUN/instruct-templates.jsonl and RUN/instruct-notes.jsonl (whichever exist); writes OUT/templates.jsonl and \
            OUT/notes.jsonl with the same fields on every line, and OUT/README.md, a Hugging Face dataset card with one \
            config per file (`datasets.load_dataset(OUT, "notes")`). Only the chosen split's patients (train by default).
            """)

    @Option(name: .customLong("run"), help: "Run folder (after `instruct templates` and/or `instruct notes-filter`).")
    var runFolder: String

    @Option(help: "Output folder (default: RUN/instruct-dataset).")
    var out: String?

    @Option(help: "Which patients: train (the default) or test.")
    var split: SplitSelection = .train

    func validate() throws {
        guard split != .all else { throw ValidationError("--split must be train or test: a shared folder holds one side") }
    }

    func run() throws {
        let run = try RunFolder(runFolder)
        var dataset = InstructDataset()
        dataset.split = split
        let folder = out ?? run.path + "/instruct-dataset"
        let summary = try dataset.write(run: run, manifest: try RunManifest(directory: run.path), output: folder)
        let parts = summary.written.keys.sorted().map { "\($0) \(summary.written[$0]!)" }.joined(separator: ", ")
        print("export instruct: \(parts) pairs of \(split.rawValue) patients -> \(folder) (with README.md)")
    }
}
