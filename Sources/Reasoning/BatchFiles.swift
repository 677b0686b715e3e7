import Foundation
import LLM
import Runtime
import TGSupport

/// OpenAI Batch API files: the input JSONL written for upload (one request
/// per sample, `custom_id` = sample id) and the output JSONL read back into
/// the same result records the live stage writes.
public enum BatchFiles {
    /// The Batch API takes at most 50,000 requests and 200 MB per file.
    public static let maxRequestsPerFile = 50_000
    public static let maxBytesPerFile = 190_000_000

    public struct ExportSummary: Sendable {
        public var requests = 0, skipped = 0
        public var files: [String] = []
    }

    /// Writes `RUN/batch/input-NNNN.jsonl` (upload these) and
    /// `RUN/batch/prompts.jsonl` (what each request asked, for the import).
    public static func export(stage: ReasonStage, inputs: ReasonInputs, seed: UInt64) throws -> ExportSummary {
        let folder = inputs.run.path + "/batch"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var summary = ExportSummary()
        let prompts = try JSONLinesWriter(path: folder + "/prompts.jsonl")
        let input = BatchInputWriter(folder: folder)
        let chosen = Set(try stage.chosenIDs(inputs, seed: seed))
        try inputs.forEachEvidence { evidence in
            guard chosen.contains(evidence.id) else { return }
            if let reason = stage.skipReason(evidence, inputs: inputs) {
                try prompts.writeLine(stage.skippedRecord(evidence, reason: reason).json)
                summary.skipped += 1
                return
            }
            var prepared = try stage.prepare(evidence, inputs: inputs)
            if stage.template.format == .deepicd && prepared.targetCodes.isEmpty {
                try prompts.writeLine(stage.skippedRecord(evidence, reason: "no ICD-10-CM codes on the target event").json)
                summary.skipped += 1
                return
            }
            let budget = stage.initialBudget(for: &prepared)
            let (request, context, dropped) = stage.request(for: prepared, budget: budget)
            try input.add(customID: evidence.id, body: request.body())
            var pending = ChatOutcome()
            pending.failure = nil
            try prompts.writeLine(stage.record(prepared, context: context, budget: budget, dropped: dropped, outcome: pending,
                                               status: .pending, endpoint: Endpoint(provider: .openai, baseURL: Endpoint.openAIDefaultBase)).json)
            summary.requests += 1
        }
        try input.commit()
        summary.files = input.files
        try prompts.commit()
        return summary
    }

    public struct ImportSummary: Sendable {
        public var imported = 0, ok = 0, partial = 0, failed = 0, unknown = 0, kept = 0
        public var usage = TokenUsage()
    }

    /// Reads Batch API output (and error) files into `RUN/reasoning.jsonl`:
    /// records already there stay unless they failed and the batch answered
    /// them; prompts skipped at export are carried over.
    public static func importResults(_ files: [String], run: RunFolder, wanted: Int) throws -> ImportSummary {
        let folder = run.path + "/batch"
        let prompts = try RecordIndex(path: folder + "/prompts.jsonl")
        var summary = ImportSummary()
        var results: [String: ReasoningRecord] = [:]
        let promptsPath = folder + "/prompts.jsonl"
        for file in files {
            let reader = try LineReader(path: file)
            while let line = try reader.nextLine() {
                guard !line.isEmpty else { continue }
                let value: JSONValue
                do { value = try JSONValue.parse(line) } catch {
                    throw InputError(file: file, line: reader.lineNumber, message: "\(error)")
                }
                guard let id = value["custom_id"]?.stringValue else {
                    throw InputError(file: file, line: reader.lineNumber, field: "custom_id", message: "missing")
                }
                guard let prompt = try prompts.record(id).map({ try ReasoningRecord(json: $0, file: promptsPath, line: nil) }) else {
                    summary.unknown += 1
                    continue
                }
                results[id] = record(from: value, prompt: prompt, wanted: wanted)
            }
        }
        // Merge with what the live stage (or an earlier import) wrote.
        let output = try JSONLinesWriter(path: run.merged("reasoning"))
        var written = Set<String>()
        if FileManager.default.fileExists(atPath: run.merged("reasoning")) {
            let reader = try LineReader(path: run.merged("reasoning"))
            while let line = try reader.nextLine() {
                guard !line.isEmpty else { continue }
                let record = try ReasoningRecord(json: JSONValue.parse(line), file: run.merged("reasoning"), line: reader.lineNumber)
                guard !written.contains(record.id) else { continue }
                if record.status == .failed || record.status == .pending, results[record.id] != nil { continue }
                try output.writeLine(record.json)
                written.insert(record.id)
                summary.kept += 1
            }
        }
        for id in prompts.order where !written.contains(id) {
            let record = try results[id] ?? ReasoningRecord(json: prompts.record(id)!, file: promptsPath, line: nil)
            guard record.status != .pending else { continue }  // not answered yet
            try output.writeLine(record.json)
            written.insert(id)
            guard results[id] != nil else { continue }
            summary.imported += 1
            switch record.status {
            case .ok: summary.ok += 1
            case .partial: summary.partial += 1
            default: summary.failed += 1
            }
            if let usage = record.asked?.usage {
                summary.usage = summary.usage + TokenUsage(usage)
            }
        }
        try output.commit()
        return summary
    }

    /// What one Batch API output line says: the completions and their
    /// usage, or why there are none.
    public static func outcome(of line: JSONValue) -> ChatOutcome {
        var choices: [ChatChoice] = []
        var usage = TokenUsage()
        var failure: ChatFailure?
        if let error = line["error"], error != .null {
            failure = .rejected(status: 0, message: error["message"]?.stringValue ?? error.jsonText)
        } else if let response = line["response"] {
            var body: [UInt8] = []
            (response["body"] ?? .null).write(into: &body)
            let status = Int(response["status_code"]?.doubleValue ?? 0)
            switch ResponseClassifier.classify(.success(HTTPResponse(status: status, body: body)), redactor: Redactor(secrets: [])) {
            case .success(let parsed, let counted):
                choices = parsed
                usage = counted
            case .failed(let reason): failure = reason
            case .retry(let reason, _): failure = .exhausted(attempts: 1, lastError: reason)
            case .manyChoicesUnsupported: failure = .rejected(status: status, message: "n > 1 refused")
            }
        } else {
            failure = .rejected(status: 0, message: "neither response nor error")
        }
        var outcome = ChatOutcome()
        outcome.choices = choices
        outcome.usage = usage
        outcome.failure = failure
        outcome.attempts = 1
        return outcome
    }

    /// One output line as a result record: the prompt's record, answered.
    static func record(from line: JSONValue, prompt: ReasoningRecord, wanted: Int) -> ReasoningRecord {
        let outcome = outcome(of: line)
        let (choices, usage, failure) = (outcome.choices, outcome.usage, outcome.failure)
        var record = prompt
        guard var asked = prompt.asked else { return prompt }
        record.status = choices.count >= wanted ? .ok : (choices.isEmpty ? (failure?.kind == "context_too_long" ? .tooLong : .failed) : .partial)
        asked.host = "batch"
        asked.completions = choices.map(ReasoningRecord.Completion.init)
        asked.usage = ReasoningRecord.Usage(usage)
        asked.attempts = 1
        asked.error = failure.map { (kind: $0.kind, message: $0.message) }
        record.asked = asked
        return record
    }
}

/// The Batch API input files of an export: requests (`custom_id`, POST,
/// `/v1/chat/completions`, body) cut into parts within the API's limits,
/// `input-0001.jsonl`, `input-0002.jsonl` ... in `folder`.
public final class BatchInputWriter {
    public let folder: String
    public private(set) var files: [String] = []
    private var part: JSONLinesWriter?
    private var partRequests = 0, partBytes = 0

    public init(folder: String) { self.folder = folder }

    public func add(customID: String, body: JSONValue) throws {
        let line = JSONValue.object([("custom_id", .string(customID)), ("method", .string("POST")),
                                     ("url", .string("/v1/chat/completions")), ("body", body)]).jsonText
        if part == nil || partRequests >= BatchFiles.maxRequestsPerFile || partBytes + line.utf8.count + 1 > BatchFiles.maxBytesPerFile {
            try part?.commit()
            let name = folder + String(format: "/input-%04d.jsonl", files.count + 1)
            part = try JSONLinesWriter(path: name)
            files.append(name)
            partRequests = 0
            partBytes = 0
        }
        try part!.writeLine(line)
        partRequests += 1
        partBytes += line.utf8.count + 1
    }

    public func commit() throws { try part?.commit() }
}
