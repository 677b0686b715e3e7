import ArgumentParser
import Curation
import Foundation
import TGSupport

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an example as a curator judges it: task, targets, context, concept pairs with lift, relation paths, chains and verdicts.",
        discussion: """
            Name samples by id, or draw them: --random K [--seed S] among the samples of --task that pass every --where \
            filter (\(Selection.Filter.allCases.map(\.rawValue).joined(separator: ", "))); with --where longest-paths, the K \
            samples with the longest paths. Works on a run in progress (chunk files) as well as a merged one.
            """)

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    @Argument(help: "Sample ids.")
    var ids: [String] = []

    @Option(help: "Only samples of this task.")
    var task: String?

    @Option(name: .customLong("where"), help: "Filter (repeatable; quote names with spaces, e.g. \"no graph\").")
    var filters: [String] = []

    @Option(help: "How many samples to draw.")
    var random: Int?

    @Option(help: "Seed of the draw.")
    var seed: UInt64 = 0

    @Option(help: "text, json (one line per example), dot (Graphviz) or mermaid.")
    var format = "text"

    @Flag(help: "Show a run whose stages read inputs written again since (they may not belong together).")
    var force = false

    func validate() throws {
        guard ExampleFormat(rawValue: format) != nil else {
            throw ValidationError("unknown format \(format) (\(ExampleFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        for name in filters where Selection.Filter(name: name) == nil {
            throw ValidationError("unknown --where filter \"\(name)\" (\(Selection.Filter.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard !ids.isEmpty || random != nil || task != nil || !filters.isEmpty else {
            throw ValidationError("name sample ids, or draw some with --random K (and --task / --where)")
        }
        if let random, random < 1 { throw ValidationError("--random must be at least 1") }
    }

    func run() throws {
        let view = try RunView(runFolder, force: force)
        var chosen = ids
        if chosen.isEmpty {
            let selection = Selection(task: task, filters: filters.compactMap(Selection.Filter.init(name:)), count: random ?? 5, seed: seed)
            chosen = try selection.choose(in: view)
            if chosen.isEmpty {
                FileHandle.standardError.write(Data("inspect: no sample matches\n".utf8))
                throw ExitCode(1)
            }
        }
        let output = ExampleFormat(rawValue: format)!
        for (index, id) in chosen.enumerated() {
            if index > 0 && output != .json { print(output == .text ? String(repeating: "=", count: 72) : "") }
            print(output.render(try view.example(id)), terminator: output == .json ? "\n" : "")
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML report of a run (stages, coverage, distributions, acceptance, cost, example graphs).")

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    @Option(help: "Where to write it (default: RUN/report.html).")
    var out: String?

    @Option(help: "How many examples to draw with their graphs.")
    var examples = 6

    @Option(help: "Seed of the example draw.")
    var seed: UInt64 = 0

    @Flag(help: "Report on a run whose stages read inputs written again since (they may not belong together).")
    var force = false

    func validate() throws {
        guard examples >= 0 else { throw ValidationError("--examples must be 0 or more") }
    }

    func run() throws {
        let view = try RunView(runFolder, force: force)
        let html = try RunReport(examples: examples, seed: seed).html(for: view)
        let path = out ?? view.run.path + "/report.html"
        try SafeReplace.write(Data(html.utf8), to: path)
        print("report: \(path) (\(html.utf8.count / 1024) KB)")
    }
}
