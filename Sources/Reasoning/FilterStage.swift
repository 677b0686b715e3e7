import EHR
import Foundation
import LLM
import Runtime
import TGSupport

/// Stage 5: keeps the faithful chains of `RUN/reasoning.jsonl` and writes
/// the dataset (`RUN/dataset.jsonl`), every verdict (`RUN/filter.jsonl`)
/// and per-task acceptance statistics (`RUN/filter-stats.json`).
public struct FilterStage: Sendable {
    public var filter: ChainFilter
    /// Least similarity at which a kept chain is marked as a near copy of
    /// another (nil: not looked for).
    public var nearDuplicateThreshold: Double? = 0.8

    public init(filter: ChainFilter) { self.filter = filter }

    /// Counts of one task.
    public struct TaskStats: Sendable {
        public var samples = 0, answered = 0, keptSamples = 0
        public var completions = 0, keptCompletions = 0
        /// Samples not answered, by status (skipped, failed, too_long).
        public var unanswered: [String: Int] = [:]
        /// Rejected completions, by reason (numbers folded away so that
        /// reasons group).
        public var reasons: [String: Int] = [:]
        public var levels: [String: Int] = [:]
        /// Completions by grounding score band ("none": nothing to check).
        public var grounding: [String: Int] = [:]
        /// Completions EHR-R1's coverage rule keeps that grounding rejects.
        public var coveredButUngrounded = 0
        /// Kept chains marked as near copies of another kept chain.
        public var nearDuplicates = 0
        /// Completions that state as a fact a concept only the expected
        /// answer holds (the concept check).
        public var backwards = 0

        public var json: JSONValue {
            func counts(_ table: [String: Int]) -> JSONValue {
                .object(table.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) })
            }
            var members: [(String, JSONValue)] = [
                ("samples", .integer(Int64(samples))), ("answered", .integer(Int64(answered))),
                ("kept_samples", .integer(Int64(keptSamples))), ("completions", .integer(Int64(completions))),
                ("kept_completions", .integer(Int64(keptCompletions))),
                ("acceptance", .number(completions == 0 ? 0 : (Double(keptCompletions) / Double(completions) * 1000).rounded() / 1000)),
                ("unanswered", counts(unanswered)), ("rejections", counts(reasons)),
            ]
            if !levels.isEmpty { members.append(("icd_levels", counts(levels))) }
            members.append(("near_duplicates", .integer(Int64(nearDuplicates))))
            if !grounding.isEmpty {
                members.append(("grounding", .object(FilterStage.bands.filter { grounding[$0] != nil }
                    .map { ($0, .integer(Int64(grounding[$0]!))) })))
                members.append(("covered_but_ungrounded", .integer(Int64(coveredButUngrounded))))
                members.append(("reasoning_backwards", .integer(Int64(backwards))))
            }
            return .object(members)
        }
    }

    /// The grounding score bands of the statistics, in order.
    public static let bands = ["none", "0-0.25", "0.25-0.5", "0.5-0.75", "0.75-1", "1"]

    static func band(_ grounding: Grounding) -> String {
        guard let score = grounding.score else { return "none" }
        switch score {
        case 1...: return "1"
        case 0.75...: return "0.75-1"
        case 0.5...: return "0.5-0.75"
        case 0.25...: return "0.25-0.5"
        default: return "0-0.25"
        }
    }

    public struct Summary: Sendable {
        public var byTask: [String: TaskStats] = [:]
        public var usage = TokenUsage()
        /// Records of test-split patients: never training data.
        public var testSamples = 0
        /// The kept examples' models and templates (name → SHA-256), and
        /// the dataset file's size, for the dataset card.
        public var models: [String: Int] = [:]
        public var templates: [String: String] = [:]
        public var datasetBytes = 0

        public var total: TaskStats {
            var total = TaskStats()
            for stats in byTask.values {
                total.samples += stats.samples
                total.answered += stats.answered
                total.keptSamples += stats.keptSamples
                total.completions += stats.completions
                total.keptCompletions += stats.keptCompletions
                total.unanswered.merge(stats.unanswered, uniquingKeysWith: +)
                total.reasons.merge(stats.reasons, uniquingKeysWith: +)
                total.levels.merge(stats.levels, uniquingKeysWith: +)
                total.grounding.merge(stats.grounding, uniquingKeysWith: +)
                total.coveredButUngrounded += stats.coveredButUngrounded
                total.nearDuplicates += stats.nearDuplicates
                total.backwards += stats.backwards
            }
            return total
        }

        public var json: JSONValue {
            .object([("total", total.json), ("usage", usage.json), ("test_samples_left_out", .integer(Int64(testSamples))),
                     ("tasks", .object(byTask.keys.sorted().map { ($0, byTask[$0]!.json) }))])
        }
    }

    /// Groups reasons that differ only in numbers ("covers 1 of 3").
    static func reasonKey(_ reason: String) -> String {
        if reason.hasPrefix("final answer covers") { return "final answer covers too few targets" }
        if reason.hasSuffix("is not an ICD-10-CM code") { return "not an ICD-10-CM code" }
        if reason.hasPrefix("repeats itself") { return "repeats itself" }
        if reason.hasPrefix("grounding ") { return "grounding below the bar" }
        return reason
    }

    /// Rewrites `filter.jsonl` with each marked chain's `near_duplicate_of`.
    static func mark(_ marks: [String: NearDuplicates.Mark], in path: String) throws {
        let reader = try LineReader(path: path)
        let output = try JSONLinesWriter(path: path)
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            var record = try VerdictRecord(json: try JSONValue.parse(line), file: path, line: reader.lineNumber)
            for index in record.verdicts.indices {
                if let mark = marks["\(record.id)#\(index)"] { record.verdicts[index].nearDuplicate = VerdictRecord.NearDuplicate(of: mark.of, similarity: mark.similarity) }
            }
            try output.writeLine(record.json)
        }
        try output.commit()
    }

    /// Sample id → split, from the run's sample index.
    static func splits(_ run: RunFolder) throws -> [String: Split] {
        Dictionary(try Sample.splits(in: run.samples).map { ($0.id, $0.split) }, uniquingKeysWith: { _, last in last })
    }

    /// Judges every record of `input`; only training patients' samples
    /// reach the dataset (test patients' are for evaluation: `export eval`).
    public func run(_ run: RunFolder, input: String, runName: String) throws -> Summary {
        let splits = try Self.splits(run)
        let dataset = try JSONLinesWriter(path: run.path + "/dataset.jsonl")
        let verdicts = try JSONLinesWriter(path: run.path + "/filter.jsonl")
        var summary = Summary()
        var duplicates = nearDuplicateThreshold.map { NearDuplicates(threshold: $0) }
        let reader = try LineReader(path: input)
        var seen = Set<String>()
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            let value: JSONValue
            do { value = try JSONValue.parse(line) } catch {
                throw InputError(file: input, line: reader.lineNumber, message: "\(error)")
            }
            let record = try ReasoningRecord(json: value, file: input, line: reader.lineNumber)
            let id = record.id, task = record.task
            guard seen.insert(id).inserted else { continue }
            guard let split = splits[id] else {
                throw InputError(file: input, line: reader.lineNumber, field: "id",
                                 message: "sample \"\(id)\" is not in \(run.samples) (a record of another run?)")
            }
            guard split == .train else {
                summary.testSamples += 1
                continue
            }
            var stats = summary.byTask[task] ?? TaskStats()
            stats.samples += 1
            defer { summary.byTask[task] = stats }
            guard record.status.answered, let asked = record.asked else {
                stats.unanswered[record.status.rawValue, default: 0] += 1
                continue
            }
            stats.answered += 1
            guard let format = AnswerFormat(rawValue: asked.format) else {
                throw InputError(file: input, line: reader.lineNumber, field: "format", message: "unknown answer format \"\(asked.format)\"")
            }
            var kept: [String] = []
            var judged: [VerdictRecord.Verdict] = []
            let grounding = filter.rules.contains(.grounding)
            let contextEvents = ContextEvents(rendered: grounding ? asked.context : "")
            let given = try filter.conceptCheck.flatMap { check in
                grounding ? try check.given(context: asked.context, knowledge: asked.knowledge, targets: asked.targets) : nil
            }
            for (index, completion) in asked.completions.enumerated() {
                let verdict = try filter.judge(text: completion.text, finishReason: completion.finishReason, format: format,
                                               targets: asked.targets, targetCodes: asked.targetCodes, knowledge: asked.knowledge,
                                               contextEvents: contextEvents, given: given)
                stats.completions += 1
                if let level = verdict.level { stats.levels[level.name, default: 0] += 1 }
                if let grounding = verdict.grounding {
                    stats.grounding[Self.band(grounding), default: 0] += 1
                    let ungrounded = verdict.reasons.contains { $0.hasPrefix("grounding ") }
                    let uncovered = verdict.reasons.contains { $0.hasPrefix("final answer covers") }
                    if ungrounded && !uncovered { stats.coveredButUngrounded += 1 }
                    if grounding.unsupported.contains(where: { $0.hasSuffix(ConceptCheck.backwardsMark) }) { stats.backwards += 1 }
                }
                if verdict.kept {
                    stats.keptCompletions += 1
                    kept.append(completion.text)
                    duplicates?.add(completion.text, name: "\(id)#\(index)", task: task)
                } else {
                    for reason in verdict.reasons { stats.reasons[Self.reasonKey(reason), default: 0] += 1 }
                }
                judged.append(verdict.record)
            }
            try verdicts.writeLine(VerdictRecord(id: id, task: task, verdicts: judged).json)
            summary.usage = summary.usage + TokenUsage(asked.usage)
            guard !kept.isEmpty else { continue }
            stats.keptSamples += 1
            let provenance = DatasetRecord.Provenance(
                run: runName, template: record.template, templateSHA256: asked.templateSHA256, host: asked.host,
                parameters: asked.parameters.jsonText, source: "reasoning.jsonl:\(reader.lineNumber)")
            let example = DatasetRecord(id: id, task: task, instruction: asked.instruction, input: asked.context,
                                        targets: asked.targets, targetCodes: asked.targetCodes, graph: asked.graph, chains: kept,
                                        model: asked.model, usage: asked.usage, provenance: provenance)
            let line = example.json.jsonText
            summary.datasetBytes += line.utf8.count + 1
            summary.models[asked.model, default: 0] += 1
            summary.templates[record.template] = asked.templateSHA256
            try dataset.writeLine(line)
        }
        try dataset.commit()
        try verdicts.commit()
        if let duplicates {
            // Near copies are known once every chain is: mark them in a
            // second pass over the verdicts.
            let marks = duplicates.marks()
            for mark in marks.values { summary.byTask[mark.task]?.nearDuplicates += 1 }
            if !marks.isEmpty { try Self.mark(marks, in: run.path + "/filter.jsonl") }
        }
        let stats = try JSONLinesWriter(path: run.path + "/filter-stats.json")
        try stats.writeLine(summary.json)
        try stats.commit()
        return summary
    }
}
