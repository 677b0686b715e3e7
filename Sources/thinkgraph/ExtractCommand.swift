import ArgumentParser
import EHR
import Extraction
import Foundation
import Lexicon
import Matcher
import Runtime
import TGSupport

struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Stage 1: link every event's values and text to lexicon concepts (chunked, resumable).",
        subcommands: [ExtractRunCommand.self, ExtractMergeCommand.self],
        defaultSubcommand: ExtractRunCommand.self)
}

struct ExtractRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Extract the concepts of one chunk of the run's patients into RUN/extract/CHUNK.jsonl.",
        discussion: """
            Structured values of the fields tasks predict (plus --fields) are linked by ICD-10-CM code, exact \
            normalised string, approximate match (--value-threshold), else kept as string concepts (STR:...); \
            free text goes through the concept matcher with negation and family context. Kill and re-run \
            freely: a worker resumes after the last record it saved.
            """)

    @Option(name: .customLong("run"), help: "Run folder (after `samples`).")
    var runFolder: String

    @Option(help: "Lexicon folder.")
    var lexicon: String

    @Option(help: "Task file whose target keys are linked (default: the shipped EHR-R1 tasks).")
    var tasks: String?

    @Option(help: "More record keys to link, comma-separated.")
    var fields: String?

    @Option(help: "Jaccard threshold for approximate linking of structured values.")
    var valueThreshold = 0.8

    @Option(help: "Similarity threshold of the text matcher.")
    var threshold = 0.7

    @Flag(help: "Run even if an input changed since the stage before wrote it.")
    var force = false

    @OptionGroup var chunking: ChunkOptions

    func validate() throws {
        guard valueThreshold > 0, valueThreshold <= 1 else { throw ValidationError("--value-threshold must be in (0, 1], not \(valueThreshold)") }
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1], not \(threshold)") }
    }

    func run() throws {
        try chunking.recordingFailure(of: .extract, runFolder: runFolder) { try work() }
    }

    func work() throws {
        let run = try RunFolder(runFolder)
        let inputs = try run.verifyInputs(of: .extract, force: force)
        let chunk = try chunking.chunk()
        let taskSet = try TaskSet.forRun(runFolder, override: tasks)
        let linked = Set(taskSet.tasks.flatMap(TargetConcepts.linkedFields)).union(
            (fields ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        var options = ConceptMatcher.Options()
        options.threshold = threshold
        let store = try LexiconStore(directory: lexicon)
        let matcher = try ConceptMatcher(lexicon: store, context: ContextRules.standard(), options: options)
        let linker = try ConceptLinker(lexicon: store, matcher: matcher, fields: linked, valueThreshold: valueThreshold)
        let configuration: [(String, JSONValue)] = [
            ("lexicon", .string(store.manifest.createdAt)),
            ("lexicon_manifest", .string(try sha256OfFile(atPath: store.directory + "/manifest.json"))), ("fields", .array(linked.sorted().map { .string($0) })),
            ("value_threshold", .number(valueThreshold)), ("threshold", .number(threshold)),
            ("chunk_split", .string(chunking.chunkSplit.rawValue)), ("seed", .integer(Int64(chunking.seed))),
        ]
        let stage = ExtractStage(linker: linker, chunk: chunk, strategy: chunking.strategy, saveEvery: chunking.saveEvery)
        let summary = try stage.run(run, inputs: inputs, configuration: configuration, progressLabel: "extract \(chunk)", quiet: chunking.quiet)
        if summary.alreadyComplete, !chunking.quiet {
            FileHandle.standardError.write(Data("extract \(chunk): already complete (\(summary.skipped) patients)\n".utf8))
        }
        if chunking.json { print(summary.json.jsonText) }
    }
}

struct ExtractMergeCommand: StageMergeCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Check every extract chunk finished and merge them into RUN/extract.jsonl.")
    static let stage = PipelineStage.extract

    @OptionGroup var merge: MergeOptions
}
