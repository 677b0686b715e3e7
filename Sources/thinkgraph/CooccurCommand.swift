import ArgumentParser
import Cooccurrence
import EHR
import Extraction
import Foundation
import Runtime
import TGSupport

struct CooccurCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cooccur",
        abstract: "Stage 2: task-wise co-occurrence of target and history concepts (chunked, then merged).",
        subcommands: [CooccurRunCommand.self, CooccurMergeCommand.self, CooccurTopCommand.self],
        defaultSubcommand: CooccurRunCommand.self)
}

struct CooccurRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Count one chunk of the run's training samples into RUN/cooccur/CHUNK.sqlite.")

    @Option(name: .customLong("run"), help: "Run folder (after `extract merge`).")
    var runFolder: String

    @Option(help: "Task file (default: the shipped EHR-R1 tasks); only its tasks are counted.")
    var tasks: String?

    @Flag(help: "Keep negated mentions in the history.")
    var keepNegated = false

    @Flag(help: "Keep family-history mentions in the history.")
    var keepFamily = false

    @Flag(help: "Run even if an input changed since the stage before wrote it.")
    var force = false

    @OptionGroup var chunking: ChunkOptions

    func run() throws {
        try chunking.recordingFailure(of: .cooccur, runFolder: runFolder) { try work() }
    }

    func work() throws {
        let run = try RunFolder(runFolder)
        let inputs = try run.verifyInputs(of: .cooccur, force: force)
        let chunk = try chunking.chunk()
        let taskSet = try TaskSet.forRun(runFolder, override: tasks)
        var stage = CooccurStage(tasks: taskSet.tasks, chunk: chunk, strategy: chunking.strategy)
        stage.historyRule = HistoryRule(keepNegated: keepNegated, keepFamily: keepFamily)
        let configuration: [(String, JSONValue)] = [
            ("tasks", .array(taskSet.tasks.map { .string($0.name) })), ("keep_negated", .bool(keepNegated)),
            ("keep_family", .bool(keepFamily)), ("chunk_split", .string(chunking.chunkSplit.rawValue)),
            ("seed", .integer(Int64(chunking.seed))),
        ]
        let summary = try stage.run(run, inputs: inputs, configuration: configuration, progressLabel: "cooccur \(chunk)", quiet: chunking.quiet)
        if summary.alreadyComplete, !chunking.quiet {
            FileHandle.standardError.write(Data("cooccur \(chunk): already complete\n".utf8))
        }
        if chunking.json { print(summary.json.jsonText) }
    }
}

struct CooccurMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Check every chunk finished and sum them into RUN/cooccur.sqlite (tables tasks, concepts, pairs, names; view lift).")

    @OptionGroup var merge: MergeOptions

    func run() throws {
        let run = try RunFolder(merge.runFolder)
        let started = RunManifest.now()
        let directory = run.chunkDirectory("cooccur")
        let files = try ChunkMerge.completeChunks(in: directory, suffix: ".sqlite")
        let count = files.count
        let (configuration, _) = try ChunkMerge.agreement(of: files, suffix: ".sqlite")
        let output = run.path + "/cooccur.sqlite"
        Debris.sweep(run.path)
        let partial = output + ".partial-\(Debris.tag)"
        try? FileManager.default.removeItem(atPath: partial)
        try CooccurrenceCounts.merge(files, into: partial)
        try? FileManager.default.removeItem(atPath: output)
        try FileManager.default.moveItem(atPath: partial, toPath: output)

        let matrix = try CooccurrenceMatrix(path: output)
        let tasks = try matrix.tasks()
        let pairs = try matrix.database.scalarInt("SELECT count(*) FROM pairs") ?? 0
        var manifest = try RunManifest(directory: run.path)
        var entry = RunManifest.Stage(status: "complete")
        entry.started = started
        entry.finished = RunManifest.now()
        entry.configuration = configuration + [("chunks", .integer(Int64(count)))]
        try entry.recordInputs(of: .cooccur, in: run)
        try entry.recordOutputs(PipelineStage.cooccur.outputs, in: run)
        entry.counts = .object([("pairs", .integer(pairs)),
                                ("samples", .object(tasks.map { ($0.task, .integer(Int64($0.samples))) }))])
        manifest.set("cooccur", entry)
        try manifest.save()
        if merge.json {
            print(entry.counts.jsonText)
        } else {
            print("cooccur: merged \(count) chunks: \(pairs) pairs over \(tasks.count) tasks -> \(output)")
            for task in tasks { print("  \(task.task): \(task.samples) samples") }
        }
    }
}

struct CooccurTopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "The strongest partners of a concept in a task, with counts and lift.")

    @Option(name: .customLong("run"), help: "Run folder (after `cooccur merge`).")
    var runFolder: String

    @Option(help: "Task name.")
    var task: String

    @Option(help: "Concept id (CUI, HP:..., STR:...) or name.")
    var concept: String

    @Option(help: "Drop pairs whose history concept occurs in fewer samples.")
    var minSupport = 5

    @Option(name: .short, help: "How many partners.")
    var k = 20

    @Flag(help: "Treat the concept as a history concept and list its targets.")
    var asHistory = false

    func validate() throws {
        guard minSupport >= 1 else { throw ValidationError("--min-support must be at least 1") }
        guard k >= 1 else { throw ValidationError("-k must be at least 1") }
    }

    @Flag(help: "Print JSON lines.")
    var json = false

    func run() throws {
        let path = runFolder + "/cooccur.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw UsageError("\(path): missing (run `thinkgraph cooccur merge --run \(runFolder)` first)")
        }
        let matrix = try CooccurrenceMatrix(path: path)
        guard try matrix.tasks().contains(where: { $0.task == task }) else {
            throw UsageError("no task \"\(task)\" in \(path); tasks: \(try matrix.tasks().map(\.task).joined(separator: ", "))")
        }
        let ids = try matrix.resolve(concept)
        guard !ids.isEmpty else { throw UsageError("no concept \"\(concept)\" in \(path)") }
        for id in ids {
            let partners = try matrix.partners(task: task, concept: id, asTarget: !asHistory, minimumSupport: minSupport, limit: k)
            if json {
                for partner in partners {
                    print(JSONValue.object([
                        ("concept", .string(id)), ("partner", .string(partner.concept)), ("name", .string(partner.name)),
                        ("count", .integer(Int64(partner.count))), ("n_target", .integer(Int64(partner.nTarget))),
                        ("n_history", .integer(Int64(partner.nHistory))), ("samples", .integer(Int64(partner.samples))),
                        ("lift", .number(partner.lift)),
                    ]).jsonText)
                }
                continue
            }
            print("\(id) as \(asHistory ? "history" : "target") in \(task) (min support \(minSupport)):")
            print("  " + "lift".padding(toLength: 9, withPad: " ", startingAt: 0) + "count  n(t)   n(h)   partner")
            for partner in partners {
                print("  " + String(format: "%-9.2f%-7d%-7d%-7d", partner.lift, partner.count, partner.nTarget, partner.nHistory)
                      + "\(partner.concept)  \(partner.name)")
            }
        }
    }
}
