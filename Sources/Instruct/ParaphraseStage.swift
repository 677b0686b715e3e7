import Foundation
import LLM
import Runtime
import TGSupport

/// `instruct templates --paraphrase`: asks the model to word each template
/// question otherwise, keeping the answer as the record gave it. A
/// paraphrase is used only when it is one non-empty question that keeps
/// every value the template put in (item names, times, admissions: the
/// answer depends on them) and differs from the template's wording;
/// otherwise the template's question stays, and the reason is counted.
/// Resumable: answers go to `RUN/instruct-paraphrase/CHUNK.jsonl` first.
public struct ParaphraseStage: Sendable {
    public static let stageName = "instruct-paraphrase"
    public static let instruction = """
        Rewrite the question below about a patient's health record in other words, as a clinician might ask it. \
        Keep each of these exactly as written: {slots}. Reply with the rewritten question only, on one line.

        Question: {question}
        """

    public var parameters: ChatParameters

    public init(parameters: ChatParameters) { self.parameters = parameters }

    public struct Summary: Sendable {
        public var pairs = 0, asked = 0, resumed = 0, used = 0
        public var kept: [String: Int] = [:]
        public var usage = TokenUsage()

        public var json: JSONValue {
            .object([("pairs", .integer(Int64(pairs))), ("asked", .integer(Int64(asked))), ("resumed", .integer(Int64(resumed))),
                     ("paraphrased", .integer(Int64(used))),
                     ("template_question_kept", .object(kept.keys.sorted().map { ($0, .integer(Int64(kept[$0]!))) })),
                     ("usage", usage.json)])
        }
    }

    /// Why a paraphrase is not used (nil: it is).
    /// `candidate` is the answer as `cleaned` leaves it.
    public static func rejection(of candidate: String, question: String, slots: [String]) -> String? {
        if candidate.isEmpty { return "empty" }
        let lowered = candidate.lowercased()
        if slots.contains(where: { !$0.isEmpty && !lowered.contains($0.lowercased()) }) { return "lost_value" }
        if lowered == question.lowercased() { return "unchanged" }
        if candidate.count > max(200, question.count * 3) { return "too_long" }
        return nil
    }

    /// The first non-empty line, without a "Question:" label or quotes.
    public static func cleaned(_ text: String) -> String {
        var line = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? ""
        for label in ["Rewritten question:", "Question:"] where line.lowercased().hasPrefix(label.lowercased()) {
            line = String(line.dropFirst(label.count)).trimmingCharacters(in: .whitespaces)
        }
        if line.count >= 2, let first = line.first, let last = line.last, "\"'“".contains(first), "\"'”".contains(last) {
            line = String(line.dropFirst().dropLast())
        }
        return line.trimmingCharacters(in: .whitespaces)
    }

    func ask(id: String, question: String, slots: [String], client: ChatClient) async -> JSONValue {
        let content = Self.instruction.replacingOccurrences(of: "{slots}", with: slots.map { "\"\($0)\"" }.joined(separator: ", "))
            .replacingOccurrences(of: "{question}", with: question)
        let outcome = await client.complete(ChatRequest(messages: [ChatMessage(role: "user", content: content)], parameters: parameters),
                                            baseSeed: Int64(bitPattern: StableHash.of(id) >> 1))
        var members: [(String, JSONValue)] = [("id", .string(id)), ("question", .string(question)),
                                              ("status", .string(outcome.choices.isEmpty ? "failed" : "ok")),
                                              ("usage", outcome.usage.json), ("attempts", .integer(Int64(outcome.attempts)))]
        if let text = outcome.choices.first?.text {
            let candidate = Self.cleaned(text)
            let reason = Self.rejection(of: candidate, question: question, slots: slots)
            members += [("text", .string(text)), ("paraphrase", .string(candidate)), ("used", .bool(reason == nil)),
                        ("reason", reason.map { .string($0) } ?? .null)]
        }
        if let failure = outcome.failure, outcome.choices.isEmpty {
            members.append(("error", .object([("kind", .string(failure.kind)), ("message", .string(failure.message))])))
        }
        return .object(members)
    }

    /// Paraphrases the questions of `pairsFile` (rewritten in place when
    /// every pair was asked: `question` the paraphrase where used,
    /// `template_question` the original, `paraphrase_model`).
    public func run(_ run: RunFolder, pairsFile: String, client: ChatClient, saveEvery: Int, quiet: Bool) async throws -> Summary {
        // One chunk: the rewrite needs every answer.
        let chunk = try Chunk(count: 1, index: 0)
        // The pairs file is no input of the fingerprint: answers are kept by
        // pair id with the question they reword, so templates made again
        // (other templates, seed or split) reuse what still fits.
        let configuration: [(String, JSONValue)] = [("instruction", .string(Self.instruction)), ("parameters", parameters.json),
                                                    ("host", .string(client.endpoint.host))]
        var summary = Summary()
        var pending: [(id: String, question: String, slots: [String])] = []
        var ids: [String] = []
        do {
            let reader = try LineReader(path: pairsFile)
            while let line = try reader.nextLine() {
                guard !line.isEmpty else { continue }
                let fields = try RecordFields(JSONValue.parse(line), file: pairsFile, line: reader.lineNumber)
                let id = try fields.string("id")
                ids.append(id)
                pending.append((id, try fields.string("question"), try fields.strings("slots")))
            }
        }
        summary.pairs = ids.count
        let questions = Dictionary(pending.map { ($0.id, $0.question) }, uniquingKeysWith: { first, _ in first })
        let chunkRun = try StageChunkRun(stage: Self.stageName, run: run, inputs: [], configuration: configuration, chunk: chunk,
                                         strategy: .hash, saveEvery: saveEvery)
        // Failed requests, and answers to questions that changed, are asked
        // again; a finished chunk opens again for them and for new pairs.
        try chunkRun.writer.removeRecords { record in
            record["status"]?.stringValue != "ok"
                || record["id"]?.stringValue.flatMap { questions[$0] } != record["question"]?.stringValue
        }
        if chunkRun.isComplete, ids.contains(where: { !chunkRun.isWritten($0) }) {
            try FileManager.default.removeItem(atPath: chunkRun.writer.markerPath)
        }
        let finished = chunkRun.isComplete
        chunkRun.choose(among: ids, progressLabel: "instruct paraphrase", quiet: quiet)
        var position = finished ? pending.count : 0
        func next() -> (id: String, question: String, slots: [String])? {
            while position < pending.count {
                let item = pending[position]
                position += 1
                guard chunkRun.owns(item.id) else { continue }
                if chunkRun.isWritten(item.id) {
                    chunkRun.skipWritten()
                    continue
                }
                return item
            }
            return nil
        }
        try await askInWindow(window: client.settings.concurrency * 2, next: next, ask: { item in
            await self.ask(id: item.id, question: item.question, slots: item.slots, client: client)
        }, record: { value in
            guard let id = value["id"]?.stringValue, value["error"]?["kind"]?.stringValue != ChatFailure.cancelled.kind else { return }
            try chunkRun.write(value, id: id)
            summary.asked += 1
            summary.usage = summary.usage + TokenUsage(json: value["usage"])
        })
        try Task.checkCancellation()
        summary.resumed = finished ? ids.count : chunkRun.resumed
        if !finished { try chunkRun.writer.checkpoint() }
        // Every answer of the chunk, then the pairs rewritten.
        var answers: [String: JSONValue] = [:]
        let answerReader = try LineReader(path: run.chunkFile(Self.stageName, chunk))
        while let line = try answerReader.nextLine() {
            guard !line.isEmpty else { continue }
            guard let value = try? JSONValue.parse(line), let id = value["id"]?.stringValue else { continue }
            answers[id] = value
        }
        let failed = ids.filter { answers[$0]?["status"]?.stringValue != "ok" }.count
        if failed > 0 {
            throw UsageError("instruct paraphrase: \(failed) questions got no answer (see \(run.chunkFile(Self.stageName, chunk))); "
                             + "run again to ask them, the others are kept")
        }
        let writer = try JSONLinesWriter(path: pairsFile)
        let reader = try LineReader(path: pairsFile)
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            guard case .object(var members) = try JSONValue.parse(line), let id = members.first(where: { $0.0 == "id" })?.1.stringValue,
                  let answer = answers[id] else { continue }
            if answer["used"] == .bool(true), let paraphrase = answer["paraphrase"]?.stringValue,
               let index = members.firstIndex(where: { $0.0 == "question" }) {
                let original = members[index].1
                members[index].1 = .string(paraphrase)
                members.insert(("template_question", original), at: index + 1)
                members.append(("paraphrase_model", .string(parameters.model)))
                summary.used += 1
            } else {
                summary.kept[answer["reason"]?.stringValue ?? "failed", default: 0] += 1
            }
            try writer.writeLine(.object(members))
        }
        try writer.commit()
        if !finished { try chunkRun.finish(configuration: configuration, summary: summary.json) }
        return summary
    }
}
