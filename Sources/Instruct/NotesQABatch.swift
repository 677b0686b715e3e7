import EHR
import Foundation
import LLM
import Reasoning
import Runtime
import TGSupport

/// `instruct notes --export-batch` / `--import-batch`: the notes' requests
/// as OpenAI Batch API files (half the price, answers within a day) and
/// the answers read back into `RUN/notes-qa.jsonl`, the records the live
/// stage and `notes-merge` write, so `notes-filter` takes either.
extension NotesQAStage {
    public static let batchFolder = "notes-batch"

    /// Writes `RUN/notes-batch/input-NNNN.jsonl` (to upload) and
    /// `RUN/notes-batch/prompts.jsonl` (what each request asked).
    public func exportBatch(_ run: RunFolder, seed: UInt64) throws -> (requests: Int, files: [String]) {
        let folder = run.path + "/" + Self.batchFolder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let chosen = Set(try chosenIDs(run, seed: seed))
        let input = BatchInputWriter(folder: folder)
        let prompts = try JSONLinesWriter(path: folder + "/prompts.jsonl")
        var requests = 0
        let reader = try TimelineReader(path: run.patients)
        while let patient = try reader.next() {
            let side = splits.split(of: patient.id)
            guard split.admits(side) else { continue }
            for item in NotesQA.items(of: patient, noteEvents: noteEvents) where chosen.contains(item.id) {
                let (request, context) = request(item, of: patient, contextTokens: maxContextTokens, noteTokens: maxNoteTokens)
                try input.add(customID: item.id, body: request.body())
                try prompts.writeLine(record(item, of: patient, split: side, status: "pending", host: "batch", context: context,
                                             budgets: (maxContextTokens, maxNoteTokens), outcome: ChatOutcome()))
                requests += 1
            }
        }
        try input.commit()
        try prompts.commit()
        return (requests, input.files)
    }

    public struct BatchImport: Sendable {
        public var imported = 0, ok = 0, failed = 0, unknown = 0, kept = 0
    }

    /// Reads Batch API output (and error) files into `RUN/notes-qa.jsonl`:
    /// a record already there stays unless it failed and the batch
    /// answered it.
    public static func importBatch(_ files: [String], run: RunFolder) throws -> BatchImport {
        let promptsPath = run.path + "/" + batchFolder + "/prompts.jsonl"
        guard FileManager.default.fileExists(atPath: promptsPath) else {
            throw UsageError("\(promptsPath): missing (run `thinkgraph instruct notes --export-batch` first)")
        }
        let prompts = try RecordIndex(path: promptsPath)
        var results: [String: JSONValue] = [:]
        var summary = BatchImport()
        for file in files {
            let reader = try LineReader(path: file)
            while let line = try reader.nextLine() {
                guard !line.isEmpty else { continue }
                let value: JSONValue
                do { value = try JSONValue.parse(line) } catch { throw InputError(file: file, line: reader.lineNumber, message: "\(error)") }
                guard let id = value["custom_id"]?.stringValue else {
                    throw InputError(file: file, line: reader.lineNumber, field: "custom_id", message: "missing")
                }
                guard case .object(var members)? = try prompts.record(id) else {
                    summary.unknown += 1
                    continue
                }
                let outcome = BatchFiles.outcome(of: value)
                func set(_ key: String, _ newValue: JSONValue) {
                    if let index = members.firstIndex(where: { $0.0 == key }) { members[index].1 = newValue } else { members.append((key, newValue)) }
                }
                set("status", .string(outcome.choices.isEmpty ? (outcome.failure?.kind == "context_too_long" ? "too_long" : "failed") : "ok"))
                set("completions", .array(outcome.choices.map(\.json)))
                set("usage", outcome.usage.json)
                set("attempts", .integer(1))
                if let failure = outcome.failure, outcome.choices.isEmpty {
                    set("error", .object([("kind", .string(failure.kind)), ("message", .string(failure.message))]))
                }
                results[id] = .object(members)
            }
        }
        let merged = run.merged(stageName)
        let output = try JSONLinesWriter(path: merged)
        var written = Set<String>()
        if FileManager.default.fileExists(atPath: merged) {
            let reader = try LineReader(path: merged)
            while let line = try reader.nextLine() {
                guard !line.isEmpty else { continue }
                let value = try JSONValue.parse(line)
                guard let id = value["id"]?.stringValue, !written.contains(id) else { continue }
                if value["status"]?.stringValue != "ok", results[id] != nil { continue }
                try output.writeLine(value)
                written.insert(id)
                summary.kept += 1
            }
        }
        for id in prompts.order where !written.contains(id) {
            guard let result = results[id] else { continue }  // not answered yet
            try output.writeLine(result)
            written.insert(id)
            summary.imported += 1
            if result["status"]?.stringValue == "ok" { summary.ok += 1 } else { summary.failed += 1 }
        }
        try output.commit()
        return summary
    }
}
