import EHR
import Foundation
import LLM
import Runtime
import TGSupport

/// Which samples the stage asks about, and how prompts are sized.
public struct ReasonSelection: Sendable {
    /// Only samples whose evidence found a graph (others are recorded as
    /// skipped).
    public var requireGraph = false
    /// Ask about at most this many samples of the run (a seeded-hash choice,
    /// the same in every worker), e.g. for a demo against a slow model.
    public var limit: Int?
    /// Token budget of the rendered context.
    public var maxContextTokens = 6000
    /// The model's context size when known: prompt and answer must fit,
    /// so the context budget shrinks to what remains.
    public var contextWindow: Int?
    /// Which patients' samples: training ones by default.
    public var split = SplitSelection.train

    public init() {}
}

/// Stage 4: asks the model for reasoning chains, one record per sample in
/// `RUN/reasoning/CHUNK.jsonl`; resumable, never pays twice for a sample.
public struct ReasonStage: Sendable {
    public var template: PromptTemplate
    public var parameters: ChatParameters
    public var selection: ReasonSelection
    /// A structure the server must follow while writing (local servers).
    public var constraint: OutputConstraint?

    public init(template: PromptTemplate, parameters: ChatParameters, selection: ReasonSelection) {
        self.template = template
        self.parameters = parameters
        self.selection = selection
    }

    public struct Summary: Sendable {
        public var samples = 0, resumed = 0, retried = 0
        public var ok = 0, partial = 0, failed = 0, tooLong = 0, skipped = 0
        public var usage = TokenUsage()
        public var attempts = 0

        public var json: JSONValue {
            .object([("samples", .integer(Int64(samples))), ("resumed", .integer(Int64(resumed))), ("retried", .integer(Int64(retried))),
                     ("ok", .integer(Int64(ok))), ("partial", .integer(Int64(partial))), ("failed", .integer(Int64(failed))),
                     ("too_long", .integer(Int64(tooLong))), ("skipped", .integer(Int64(skipped))),
                     ("prompt_tokens", .integer(Int64(usage.promptTokens))), ("completion_tokens", .integer(Int64(usage.completionTokens))),
                     ("requests", .integer(Int64(usage.requests))), ("attempts", .integer(Int64(attempts)))])
        }
    }

    /// Why a sample is not asked about, or nil.
    func skipReason(_ evidence: SampleEvidence, inputs: ReasonInputs) -> String? {
        if inputs.tasks[evidence.task] == nil { return "task not selected" }
        if !selection.split.admits(evidence.split) { return "\(evidence.split.rawValue) split" }
        // A knowledge template never asks about a sample without knowledge.
        if (selection.requireGraph || template.usesKnowledge) && evidence.status != .graph { return "no graph (\(evidence.status.rawValue))" }
        return nil
    }

    /// The ids the run asks about, in evidence order: every sample, or the
    /// `limit` with the smallest seeded hash among those not skipped.
    func chosenIDs(_ inputs: ReasonInputs, seed: UInt64) throws -> [String] {
        var ids: [String] = []
        var eligible: [String] = []
        try inputs.forEachEvidence { evidence in
            ids.append(evidence.id)
            if skipReason(evidence, inputs: inputs) == nil { eligible.append(evidence.id) }
        }
        guard let limit = selection.limit, limit < eligible.count else { return ids }
        let kept = Set(eligible.sorted { StableHash.of("\(seed):\($0)") < StableHash.of("\(seed):\($1)") }.prefix(limit))
        return ids.filter { kept.contains($0) }
    }

    /// The context budget before any server feedback. With a known
    /// context window, knowledge paths are given up from the end of the
    /// list (each target's weakest pairs) while less than
    /// `minimumContextTokens` would be left for the patient's context.
    func initialBudget(for prepared: inout PreparedSample) -> Int {
        var budget = selection.maxContextTokens
        if let window = selection.contextWindow {
            while true {
                // What the template and knowledge take, plus the answer.
                let (values, _) = prepared.values(budget: 0, template: template)
                let overhead = ChatRequest(messages: template.messages(values), parameters: parameters).estimatedPromptTokens
                budget = min(selection.maxContextTokens, window - overhead - (parameters.maxTokens ?? 512) - 16)
                guard budget < Self.minimumContextTokens, prepared.trimKnowledge(template: template) else { break }
            }
        }
        return max(0, budget)
    }

    /// The least context worth keeping knowledge paths out for.
    static let minimumContextTokens = 256

    /// The context budget to try after a "prompt too long" answer.
    /// `current` is what the refused context took (never more than its
    /// budget). With the server's counts, the context gives up the excess
    /// over what the server can read beside the answer, converted to our
    /// token estimate, plus a tenth for the tokenizers' disagreement;
    /// without them, it halves.
    static func smallerBudget(than current: Int, request: ChatRequest, promptTokens: Int?, contextSize: Int?) -> Int {
        guard let promptTokens, let contextSize, promptTokens > 0 else { return current / 2 }
        let available = contextSize - (request.parameters.maxTokens ?? 512)
        let serverPerOurs = Double(promptTokens) / Double(max(1, request.estimatedPromptTokens))
        let excess = Double(promptTokens - available) / max(serverPerOurs, 0.01)
        let target = Int(Double(current) - excess * 1.1) - 8
        return excess > 0 && target < current ? target : current / 2
    }

    func request(for prepared: PreparedSample, budget: Int) -> (ChatRequest, context: String, dropped: Int) {
        let (values, dropped) = prepared.values(budget: budget, template: template)
        var parameters = self.parameters
        if let constraint { parameters.grammar = constraint.grammar(targets: values.groundTruth) }
        return (ChatRequest(messages: template.messages(values), parameters: parameters), values.context, dropped)
    }

    func prepare(_ evidence: SampleEvidence, inputs: ReasonInputs) throws -> PreparedSample {
        let (sample, patient) = try inputs.load(evidence.id)
        return PreparedSample(evidence: evidence, sample: sample, patient: patient,
                              instruction: inputs.tasks[evidence.task]?.instruction ?? "",
                              targetCodes: ReasonInputs.targetCodes(sample, of: patient), format: inputs.format)
    }

    /// The record of a sample not asked about.
    func skippedRecord(_ evidence: SampleEvidence, reason: String) -> ReasoningRecord {
        ReasoningRecord(skipped: evidence.id, task: evidence.task, template: template.name, reason: reason)
    }

    /// The record of an answered (or failed) sample: what was asked, what
    /// came back, what it cost.
    func record(_ prepared: PreparedSample, context: String, budget: Int, dropped: Int, outcome: ChatOutcome,
                status: ReasoningRecord.Status, endpoint: Endpoint) -> ReasoningRecord {
        let asked = ReasoningRecord.Asked(
            templateSHA256: template.sha256, format: template.format.rawValue, model: parameters.model, host: endpoint.host,
            parameters: parameters.json, instruction: prepared.instruction, context: context, contextBudget: budget,
            droppedEvents: dropped, droppedPaths: prepared.droppedKnowledge,
            knowledge: template.usesKnowledge ? prepared.evidence.knowledge : [], targets: prepared.sample.targets,
            targetCodes: prepared.targetCodes, graph: prepared.evidence.graph,
            completions: outcome.choices.map(ReasoningRecord.Completion.init),
            usage: ReasoningRecord.Usage(outcome.usage),
            attempts: outcome.attempts, seconds: outcome.seconds,
            error: outcome.failure.map { (kind: $0.kind, message: $0.message) })
        return ReasoningRecord(id: prepared.sample.id, task: prepared.sample.task, status: status, template: template.name, asked: asked)
    }

    /// Asks about one sample; on "prompt too long" renders a smaller
    /// context and asks again (never the same prompt twice), down to
    /// `minimumBudget` tokens, then records the sample as too long.
    func ask(_ original: PreparedSample, client: ChatClient, minimumBudget: Int = 64) async -> ReasoningRecord {
        var prepared = original
        var budget = initialBudget(for: &prepared)
        var total = ChatOutcome()
        var previousPrompt: [ChatMessage]?
        let seed = Int64(bitPattern: StableHash.of(prepared.sample.id) >> 1)
        while true {
            let (request, context, dropped) = request(for: prepared, budget: budget)
            if request.messages == previousPrompt {
                // Nothing could be made smaller: asking again would send
                // the same prompt.
                return record(prepared, context: context, budget: budget, dropped: dropped, outcome: total, status: .tooLong,
                              endpoint: client.endpoint)
            }
            previousPrompt = request.messages
            let outcome = await client.complete(request, baseSeed: seed)
            total.attempts += outcome.attempts
            total.usage = total.usage + outcome.usage
            total.seconds += outcome.seconds
            total.choices = outcome.choices
            total.failure = outcome.failure
            if case .contextTooLong(let promptTokens, let contextSize, _)? = outcome.failure, outcome.choices.isEmpty {
                let next = Self.smallerBudget(than: min(budget, (context.utf8.count + 3) / 4), request: request,
                                              promptTokens: promptTokens, contextSize: contextSize)
                if next >= minimumBudget && next < budget {
                    budget = next
                    continue
                }
                // The context is as small as it goes: give up knowledge.
                if prepared.trimKnowledge(template: template) { continue }
                return record(prepared, context: context, budget: budget, dropped: dropped, outcome: total, status: .tooLong,
                              endpoint: client.endpoint)
            }
            let status: ReasoningRecord.Status = total.choices.count >= max(1, parameters.n) ? .ok : (total.choices.isEmpty ? .failed : .partial)
            return record(prepared, context: context, budget: budget, dropped: dropped, outcome: total, status: status,
                          endpoint: client.endpoint)
        }
    }

    /// Runs the stage over one chunk. `retryFailed` asks again about the
    /// samples recorded as failed (only those).
    /// `checksums` are those of the files read (with the configuration and
    /// the chunk, the chunk's fingerprint).
    public func run(_ run: RunFolder, inputs: ReasonInputs, checksums: [String], client: ChatClient,
                    configuration: [(String, JSONValue)], chunk: Chunk, strategy: ChunkStrategy, seed: UInt64, saveEvery: Int,
                    retryFailed: Bool, progressLabel: String, quiet: Bool, limit: SpendingLimit? = nil) async throws -> Summary {
        let chunkRun = try StageChunkRun(stage: "reasoning", run: run, inputs: checksums, configuration: configuration, chunk: chunk,
                                         strategy: strategy, saveEvery: saveEvery)
        var summary = Summary()
        if retryFailed {
            summary.retried = try chunkRun.writer.removeRecords { $0["status"]?.stringValue == ReasoningRecord.Status.failed.rawValue }.count
        }
        if chunkRun.isComplete {
            summary.resumed = chunkRun.writer.resumed
            return summary
        }
        let ids = try chosenIDs(inputs, seed: seed)
        let chosen = Set(ids)
        chunkRun.choose(among: ids, progressLabel: progressLabel, quiet: quiet)
        let window = max(1, client.settings.concurrency * 2)

        // Only ids wait in the queue; a sample's patient and prompt are
        // loaded when it is sent, so at most `window` are held at once.
        var pending: [String] = []
        try inputs.forEachEvidence { evidence in
            guard chosen.contains(evidence.id), chunkRun.owns(evidence.id) else { return }
            if chunkRun.isWritten(evidence.id) {
                chunkRun.skipWritten()
            } else if let reason = skipReason(evidence, inputs: inputs) {
                try chunkRun.write(skippedRecord(evidence, reason: reason).json, id: evidence.id)
                summary.skipped += 1
            } else {
                pending.append(evidence.id)
            }
        }
        let evidenceIndex = try RecordIndex(path: run.merged("evidence"))
        var next = 0
        /// The next sample worth sending, recording those skipped on the way.
        func nextPrepared() throws -> PreparedSample? {
            while next < pending.count {
                let id = pending[next]
                next += 1
                guard let value = try evidenceIndex.record(id) else { continue }
                let evidence = try SampleEvidence(json: value, file: evidenceIndex.path, line: nil)
                let prepared = try prepare(evidence, inputs: inputs)
                if template.format == .deepicd && prepared.targetCodes.isEmpty {
                    try chunkRun.write(skippedRecord(evidence, reason: "no ICD-10-CM codes on the target event").json, id: id)
                    summary.skipped += 1
                    continue
                }
                return prepared
            }
            return nil
        }
        // With a spending limit: what was spent, what is in flight (by our
        // estimate), and whether a sample was held back.
        var spent = 0.0
        var inFlight: [String: Double] = [:]
        var heldBack: PreparedSample?
        /// Whether `prepared` may be sent without risking the limit.
        func affordable(_ prepared: PreparedSample) -> Bool {
            guard let limit else { return true }
            var copy = prepared
            let (request, _, _) = request(for: copy, budget: initialBudget(for: &copy))
            let cost = limit.estimate(request, completions: max(1, parameters.n))
            guard spent + inFlight.values.reduce(0, +) + cost <= limit.dollars else { return false }
            inFlight[prepared.evidence.id] = cost
            return true
        }
        try await withThrowingTaskGroup(of: ReasoningRecord.self) { group in
            for _ in 0..<window {
                guard let prepared = try nextPrepared() else { break }
                guard affordable(prepared) else {
                    heldBack = prepared
                    break
                }
                group.addTask { await self.ask(prepared, client: client) }
            }
            while let record = try await group.next() {
                let id = record.id
                let failure = record.asked?.error
                // Cut short by cancellation: not an answer, and not a
                // failure either; nothing is recorded, a later run asks.
                if failure?.kind == ChatFailure.cancelled.kind { continue }
                // A refused grammar would be refused for every sample: stop,
                // recording nothing for it (a later run asks again).
                if constraint != nil, record.status == .failed, let failure, failure.kind == "rejected", failure.message.hasPrefix("HTTP 400") {
                    group.cancelAll()
                    throw ConstraintRefused(host: client.endpoint.host, message: failure.message)
                }
                try chunkRun.write(record.json, id: id)
                summary.samples += 1
                switch record.status {
                case .ok: summary.ok += 1
                case .partial: summary.partial += 1
                case .tooLong: summary.tooLong += 1
                default: summary.failed += 1
                }
                inFlight[id] = nil
                if let usage = record.asked?.usage {
                    summary.usage = summary.usage + TokenUsage(usage)
                    if let limit { spent += limit.price.cost(TokenUsage(usage)) }
                }
                summary.attempts += record.asked?.attempts ?? 0
                if !Task.isCancelled, heldBack == nil, let prepared = try nextPrepared() {
                    if affordable(prepared) {
                        group.addTask { await self.ask(prepared, client: client) }
                    } else {
                        heldBack = prepared
                    }
                }
            }
        }
        // A cancelled run is unfinished: no completion marker.
        try Task.checkCancellation()
        summary.resumed = chunkRun.resumed
        if let limit, heldBack != nil {
            // Unfinished too: what was answered is kept, a later run with a
            // larger budget asks the rest.
            try chunkRun.writer.checkpoint()
            throw BudgetReached(spent: spent, budget: limit.dollars, unasked: pending.count - next + 1)
        }
        try chunkRun.finish(configuration: configuration, summary: summary.json)
        return summary
    }
}

extension ReasonStage {
    /// The run's earlier answers by sample id (the merged file and every
    /// chunk), for calibrating an estimate: ids of answered records with
    /// their usage.
    public static func earlierAnswers(_ run: RunFolder) throws -> [String: ReasoningRecord.Asked] {
        var files = [run.merged("reasoning")]
        let folder = run.path + "/reasoning"
        if let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
            files += names.filter { $0.hasSuffix(".jsonl") }.sorted().map { folder + "/" + $0 }
        }
        var answers: [String: ReasoningRecord.Asked] = [:]
        for file in files where FileManager.default.fileExists(atPath: file) {
            let reader = try LineReader(path: file)
            while let line = try reader.nextLine() {
                guard !line.isEmpty, let value = try? JSONValue.parse(line),
                      let record = try? ReasoningRecord(json: value, file: file, line: reader.lineNumber),
                      record.status.answered, let asked = record.asked else { continue }
                answers[record.id] = asked
            }
        }
        return answers
    }

    /// `--dry-run`: writes the exact request of every sample of the chunk
    /// (URL and JSON body; headers left out, they hold the key) to
    /// `RUN/reason-requests/CHUNK.jsonl`, sending nothing, and estimates
    /// what sending them would take (`CostEstimate`).
    public func writeRequests(inputs: ReasonInputs, client: ChatClient, chunk: Chunk, strategy: ChunkStrategy,
                              seed: UInt64) throws -> (path: String, estimate: CostEstimate) {
        let folder = inputs.run.path + "/reason-requests"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + chunk.name + ".jsonl"
        let output = try JSONLinesWriter(path: path)
        let ids = try chosenIDs(inputs, seed: seed)
        let mine = Set(strategy.select(ids, chunk: chunk).map { ids[$0] })
        let earlier = try Self.earlierAnswers(inputs.run)
        var estimate = CostEstimate()
        try inputs.forEachEvidence { evidence in
            guard mine.contains(evidence.id), skipReason(evidence, inputs: inputs) == nil else { return }
            var prepared = try prepare(evidence, inputs: inputs)
            if template.format == .deepicd && prepared.targetCodes.isEmpty { return }
            let budget = initialBudget(for: &prepared)
            let (request, _, _) = request(for: prepared, budget: budget)
            try output.writeLine(.object([("custom_id", .string(evidence.id)), ("method", .string("POST")),
                                          ("url", .string(client.endpoint.chatURL)), ("body", request.body())]))
            estimate.add(task: evidence.task, request: request, completions: max(1, parameters.n), earlier: earlier[evidence.id])
        }
        try output.commit()
        return (path, estimate)
    }
}
