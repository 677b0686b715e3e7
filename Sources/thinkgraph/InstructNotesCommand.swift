import ArgumentParser
import EHR
import Foundation
import Instruct
import LLM
import Runtime
import TGSupport

struct InstructNotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes",
        abstract: "Ask the model for question/answer pairs about each discharge note's admission, into RUN/notes-qa/CHUNK.jsonl.",
        discussion: """
            MIMIC-Instr's instruction-following data: for every note (--note-event, default discharge) of the chosen split, \
            the model reads the admission's events before the note (rendered as the reasoning prompts render contexts) and \
            the note, and writes --pairs question/answer pairs citing the events (the shipped prompt: \
            `instruct notes --print-default-prompt`). Chunked and resumable as `reason`: run the chunks, then \
            `instruct notes-merge`, then `instruct notes-filter`. Patient text goes only to loopback servers unless the \
            host is named with --allow-remote; keys never appear in any output.
            """)

    @Option(name: .customLong("run"), help: "Run folder (after `samples`, whose split it keeps).")
    var runFolder: String?

    @Option(help: "Model name.")
    var model = "gpt-4o"

    @Option(help: "Prompt file with {context}, {note} and {pairs} (default: the shipped one).")
    var prompt: String?

    @Option(help: "Pairs asked for per note.")
    var pairs = 5

    @Option(help: "Completions per note.")
    var n = 1

    @Option(help: "Sampling temperature.")
    var temperature = 0.7

    @Option(help: "Longest completion, in tokens.")
    var maxTokens: Int?

    @Option(help: "Token budget of the rendered events (oldest dropped first).")
    var maxContextTokens = 3000

    @Option(help: "Token budget of the note (cut at its end).")
    var maxNoteTokens = 3000

    @Option(name: .customLong("note-event"), help: "Events whose text is a note to ask about (repeat; default: discharge).")
    var noteEvents: [String] = []

    @Option(help: "Ask about at most this many notes (the same seeded choice in every worker).")
    var limit: Int?

    @Option(help: "Patients taken: train (default), test or all.")
    var split: SplitSelection = .train

    @Flag(help: "Ask again about the notes recorded as failed or too long.")
    var retryFailed = false

    @Flag(help: "Write the requests as OpenAI Batch API input files to RUN/notes-batch/ instead of asking live (upload them yourself).")
    var exportBatch = false

    @Option(help: "Read Batch API output files (repeat) into RUN/notes-qa.jsonl, for notes-filter.")
    var importBatch: [String] = []

    @Flag(help: "Print the shipped prompt and exit.")
    var printDefaultPrompt = false

    @Flag(help: "Run even if RUN/patients.jsonl changed since it was imported.")
    var force = false

    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var chunking: ChunkOptions

    func validate() throws {
        if printDefaultPrompt { return }
        guard runFolder != nil else { throw ValidationError("--run is required") }
        guard pairs > 0, n > 0 else { throw ValidationError("--pairs and --n must be at least 1") }
        guard maxContextTokens >= 128, maxNoteTokens >= 128 else { throw ValidationError("--max-context-tokens and --max-note-tokens must be at least 128") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        if printDefaultPrompt {
            print(try NotesQAPrompt.load(nil).text, terminator: "")
            return
        }
        let run = try RunFolder(runFolder!)
        if !importBatch.isEmpty {
            let summary = try NotesQAStage.importBatch(importBatch, run: run)
            print("instruct notes: imported \(summary.imported) answers (\(summary.ok) ok, \(summary.failed) failed), kept \(summary.kept) "
                  + "earlier records, \(summary.unknown) unknown ids -> \(run.merged(NotesQAStage.stageName))")
            return
        }
        let checksum = try run.verify(.patients, force: force)
        let manifest = try RunManifest(directory: run.path)
        // Nothing is sent by an export: no key or egress permission needed.
        let resolved = try endpoint.resolve(sending: !exportBatch)
        var stage = NotesQAStage(prompt: try NotesQAPrompt.load(prompt),
                                 parameters: ChatParameters(model: model, temperature: temperature, n: n, maxTokens: maxTokens),
                                 format: try TaskSet.forRun(run.path).format, splits: SampleSplits(manifest).builder)
        stage.split = split
        stage.pairs = pairs
        stage.maxContextTokens = maxContextTokens
        stage.maxNoteTokens = maxNoteTokens
        stage.limit = limit
        if !noteEvents.isEmpty { stage.noteEvents = Set(noteEvents) }
        if exportBatch {
            let (requests, files) = try stage.exportBatch(run, seed: chunking.seed)
            print("instruct notes: \(requests) requests in \(files.count) Batch API file(s)")
            for file in files { print(file) }
            return
        }
        let chunk = try chunking.chunk()
        let client = ChatClient(endpoint: resolved.endpoint, settings: resolved.settings)
        let summary: NotesQAStage.Summary
        do {
            summary = try await stage.run(run, checksums: [checksum], client: client,
                                          configuration: stage.configuration(host: resolved.endpoint.host), chunk: chunk,
                                          strategy: chunking.strategy, seed: chunking.seed, saveEvery: chunking.saveEvery,
                                          retryFailed: retryFailed, quiet: chunking.quiet)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        if chunking.json {
            print(summary.json.jsonText)
        } else if !chunking.quiet {
            FileHandle.standardError.write(Data("""
                instruct notes \(chunk): \(summary.notes) notes asked (\(summary.ok) ok, \(summary.failed) failed, \(summary.tooLong) too long), \
                \(summary.resumed) already done; \(summary.usage.requests) requests, \(summary.usage.promptTokens) prompt + \
                \(summary.usage.completionTokens) completion tokens

                """.utf8))
        }
    }
}

struct InstructNotesMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes-merge",
        abstract: "Check every instruct-notes chunk finished and merge them into RUN/notes-qa.jsonl.")

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    func run() throws {
        let run = try RunFolder(runFolder)
        let summary = try ChunkMerge.merge(directory: run.chunkDirectory(NotesQAStage.stageName), into: run.merged(NotesQAStage.stageName))
        print("instruct notes-merge: merged \(summary.chunks) chunks, \(summary.records) records -> \(run.merged(NotesQAStage.stageName))")
    }
}

struct InstructNotesFilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes-filter",
        abstract: "Keep the notes' question/answer pairs that stand on the record: RUN/instruct-notes.jsonl.",
        discussion: """
            A pair is kept when its answer cites at least one event of the context the model read as **Event [time]**, every \
            cited event is there at that time, every value it quotes with a unit is a value of the context, and neither the \
            question nor the answer repeats --copy-words consecutive words of the note. Every verdict goes to \
            RUN/instruct-notes-verdicts.jsonl, the counts to RUN/instruct-notes-stats.json.
            """)

    @Option(name: .customLong("run"), help: "Run folder (after `instruct notes-merge`).")
    var runFolder: String

    @Option(help: "A run of this many words shared with the note counts as copied.")
    var copyWords = 8

    @Flag(help: "Print the counts as one JSON line.")
    var json = false

    func run() throws {
        guard copyWords >= 3 else { throw ValidationError("--copy-words must be at least 3") }
        let run = try RunFolder(runFolder)
        let answers = run.merged(NotesQAStage.stageName)
        guard FileManager.default.fileExists(atPath: answers) else {
            throw UsageError("\(answers): missing (run `thinkgraph instruct notes` and `instruct notes-merge` first)")
        }
        var filter = NotesQAFilter()
        filter.copyWords = copyWords
        let output = run.path + "/instruct-notes.jsonl"
        let summary = try filter.run(answers: answers, patients: run.patients, output: output,
                                     verdicts: run.path + "/instruct-notes-verdicts.jsonl")
        let stats = try JSONLinesWriter(path: run.path + "/instruct-notes-stats.json")
        try stats.writeLine(summary.json)
        try stats.commit()
        if json {
            print(summary.json.jsonText)
            return
        }
        let rejected = NotesQA.Rejection.allCases.compactMap { rule in summary.rejected[rule.rawValue].map { "\(rule.rawValue) \($0)" } }
        print("instruct notes-filter: kept \(summary.kept) of \(summary.pairs) pairs from \(summary.notesAnswered) notes -> \(output)"
              + (rejected.isEmpty ? "" : "; left out: " + rejected.joined(separator: ", "))
              + (summary.unreadableLines > 0 ? "; \(summary.unreadableLines) lines were no pair" : ""))
    }
}
