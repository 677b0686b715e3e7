import EHR
import Foundation
import LLM
import Runtime
import TGSupport

/// `instruct notes`: asks the model for question/answer pairs about each
/// note's admission, one chunk of the notes at a time, into
/// `RUN/notes-qa/CHUNK.jsonl` (resumable: an answered note is not asked
/// again; a finished chunk is not run again). The filter
/// (`NotesQAFilter`) then keeps the pairs that stand on the record.
public struct NotesQAStage: Sendable {
    public static let stageName = "notes-qa"

    public var prompt: NotesQAPrompt
    public var parameters: ChatParameters
    public var format: ContextFormat
    public var splits: SampleBuilder
    public var split = SplitSelection.train
    public var noteEvents: Set<String> = ["discharge"]
    public var pairs = 5
    public var maxContextTokens = 3000
    public var maxNoteTokens = 3000
    /// Ask about at most this many notes (the smallest seeded hashes).
    public var limit: Int?

    public init(prompt: NotesQAPrompt, parameters: ChatParameters, format: ContextFormat, splits: SampleBuilder) {
        self.prompt = prompt
        self.parameters = parameters
        self.format = format
        self.splits = splits
    }

    public struct Summary: Sendable {
        public var notes = 0, resumed = 0, ok = 0, failed = 0, tooLong = 0
        public var usage = TokenUsage()
        public var attempts = 0
        public var json: JSONValue {
            .object([("notes", .integer(Int64(notes))), ("resumed", .integer(Int64(resumed))), ("ok", .integer(Int64(ok))),
                     ("failed", .integer(Int64(failed))), ("too_long", .integer(Int64(tooLong))), ("usage", usage.json),
                     ("attempts", .integer(Int64(attempts)))])
        }
    }

    /// What the stage's records are made from (a chunk written under
    /// another configuration is refused, not resumed).
    public func configuration(host: String) -> [(String, JSONValue)] {
        [("prompt", .string(prompt.source)), ("prompt_sha256", .string(prompt.sha256)), ("parameters", parameters.json),
         ("host", .string(host)), ("notes", .array(noteEvents.sorted().map { .string($0) })), ("pairs", .integer(Int64(pairs))),
         ("max_context_tokens", .integer(Int64(maxContextTokens))), ("max_note_tokens", .integer(Int64(maxNoteTokens))),
         ("split", .string(split.rawValue)), ("limit", limit.map { .integer(Int64($0)) } ?? .null)]
    }

    /// The request of one note with the context and the note cut to their budgets.
    func request(_ item: NotesQA.Item, of patient: Patient, contextTokens: Int, noteTokens: Int) -> (ChatRequest, context: String) {
        let context = NotesQA.context(of: item, in: patient, format: format, maxTokens: contextTokens).text
        let note = NotesQA.note(patient.events[item.noteIndex].text ?? "", maxTokens: noteTokens)
        return (ChatRequest(messages: prompt.messages(context: context, note: note, pairs: pairs), parameters: parameters), context)
    }

    /// Asks about one note; a "prompt too long" answer halves both budgets
    /// (down to 128 tokens each), then the note is recorded as too long.
    func ask(_ item: NotesQA.Item, of patient: Patient, split: Split, client: ChatClient) async -> JSONValue {
        var contextTokens = maxContextTokens, noteTokens = maxNoteTokens
        var total = ChatOutcome()
        var context = ""
        var status = "failed"
        while true {
            let (request, rendered) = request(item, of: patient, contextTokens: contextTokens, noteTokens: noteTokens)
            context = rendered
            let outcome = await client.complete(request, baseSeed: Int64(bitPattern: StableHash.of(item.id) >> 1))
            total.attempts += outcome.attempts
            total.usage = total.usage + outcome.usage
            total.seconds += outcome.seconds
            total.choices = outcome.choices
            total.failure = outcome.failure
            if case .contextTooLong? = outcome.failure, outcome.choices.isEmpty {
                if contextTokens / 2 >= 128 || noteTokens / 2 >= 128 {
                    contextTokens = max(128, contextTokens / 2)
                    noteTokens = max(128, noteTokens / 2)
                    continue
                }
                status = "too_long"
                break
            }
            status = total.choices.isEmpty ? "failed" : "ok"
            break
        }
        return record(item, of: patient, split: split, status: status, host: client.endpoint.host, context: context,
                      budgets: (contextTokens, noteTokens), outcome: total)
    }

    /// A note's record: what was asked (the context as sent), what came
    /// back, what it cost.
    func record(_ item: NotesQA.Item, of patient: Patient, split: Split, status: String, host: String, context: String,
                budgets: (context: Int, note: Int), outcome: ChatOutcome) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(item.id)), ("patient", .string(patient.id)), ("admission", .string(item.admission)),
            ("note_event", .integer(Int64(item.noteIndex))), ("split", .string(split.rawValue)), ("status", .string(status)),
            ("model", .string(parameters.model)), ("host", .string(host)), ("prompt_sha256", .string(prompt.sha256)),
            ("context", .string(context)), ("context_budget", .integer(Int64(budgets.context))), ("note_budget", .integer(Int64(budgets.note))),
            ("completions", .array(outcome.choices.map(\.json))), ("usage", outcome.usage.json),
            ("attempts", .integer(Int64(outcome.attempts))), ("seconds", .number((outcome.seconds * 1000).rounded() / 1000)),
        ]
        if let failure = outcome.failure, outcome.choices.isEmpty {
            members.append(("error", .object([("kind", .string(failure.kind)), ("message", .string(failure.message))])))
        }
        return .object(members)
    }

    /// The ids asked about: every note of the chosen split, in file order,
    /// or the `limit` with the smallest seeded hashes.
    func chosenIDs(_ run: RunFolder, seed: UInt64) throws -> [String] {
        var ids: [String] = []
        let reader = try TimelineReader(path: run.patients)
        while let patient = try reader.next() {
            guard split.admits(splits.split(of: patient.id)) else { continue }
            ids += NotesQA.items(of: patient, noteEvents: noteEvents).map(\.id)
        }
        if let limit, limit < ids.count {
            let kept = Set(ids.sorted { StableHash.of("\(seed):\($0)") < StableHash.of("\(seed):\($1)") }.prefix(limit))
            ids = ids.filter { kept.contains($0) }
        }
        return ids
    }

    /// Runs one chunk over the timelines at `run.patients`.
    public func run(_ run: RunFolder, checksums: [String], client: ChatClient, configuration: [(String, JSONValue)], chunk: Chunk,
                    strategy: ChunkStrategy, seed: UInt64, saveEvery: Int, retryFailed: Bool, quiet: Bool) async throws -> Summary {
        let chunkRun = try StageChunkRun(stage: Self.stageName, run: run, inputs: checksums, configuration: configuration, chunk: chunk,
                                         strategy: strategy, saveEvery: saveEvery)
        var summary = Summary()
        if retryFailed {
            _ = try chunkRun.writer.removeRecords { $0["status"]?.stringValue != "ok" }
        }
        if chunkRun.isComplete {
            summary.resumed = chunkRun.writer.resumed
            return summary
        }
        let ids = try chosenIDs(run, seed: seed)
        let chosen = Set(ids)
        chunkRun.choose(among: ids, progressLabel: "instruct notes \(chunk)", quiet: quiet)
        var pending: [(NotesQA.Item, Patient, Split)] = []
        let reader = try TimelineReader(path: run.patients)
        /// The next note to ask about, reading patients as needed.
        func next() throws -> (NotesQA.Item, Patient, Split)? {
            while pending.isEmpty, let patient = try reader.next() {
                let side = splits.split(of: patient.id)
                guard split.admits(side) else { continue }
                for item in NotesQA.items(of: patient, noteEvents: noteEvents) where chosen.contains(item.id) && chunkRun.owns(item.id) {
                    if chunkRun.isWritten(item.id) {
                        chunkRun.skipWritten()
                    } else {
                        pending.append((item, patient, side))
                    }
                }
            }
            return pending.isEmpty ? nil : pending.removeFirst()
        }
        try await askInWindow(window: client.settings.concurrency * 2, next: next, ask: { item in
            await self.ask(item.0, of: item.1, split: item.2, client: client)
        }, record: { value in
            guard let id = value["id"]?.stringValue else { return }
            // Cut short by cancellation: nothing recorded, a later run asks.
            if value["error"]?["kind"]?.stringValue == ChatFailure.cancelled.kind { return }
            try chunkRun.write(value, id: id)
            summary.notes += 1
            switch value["status"]?.stringValue {
            case "ok": summary.ok += 1
            case "too_long": summary.tooLong += 1
            default: summary.failed += 1
            }
            summary.usage = summary.usage + TokenUsage(json: value["usage"])
            summary.attempts += Int(value["attempts"]?.doubleValue ?? 0)
        })
        try Task.checkCancellation()
        summary.resumed = chunkRun.resumed
        try chunkRun.finish(configuration: configuration, summary: summary.json)
        return summary
    }
}
