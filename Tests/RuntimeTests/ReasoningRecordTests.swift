import Testing
import TGSupport
@testable import Runtime

/// The reasoning record is read strictly: both of its shapes (asked,
/// skipped) come back as written; a missing field is named, never filled.
@Suite struct ReasoningRecordTests {
    static let asked = ReasoningRecord(
        id: "p1:labevents:1", task: "labevents", status: .partial, template: "ehr-r1",
        asked: .init(templateSHA256: "abc", format: "ehr-r1", model: "smollm2-135m", host: "127.0.0.1",
                     parameters: .object([("model", .string("smollm2-135m")), ("n", .integer(2))]), instruction: "Predict the labs.",
                     context: "## Events", contextBudget: 3000, droppedEvents: 4, droppedPaths: 1, knowledge: ["a -> may treat -> b"],
                     targets: ["Glucose"], targetCodes: [], graph: .object([("pairs", .array([])), ("paths", .array([]))]),
                     completions: [.init(text: "## Extraction\n...", finishReason: "stop", seed: 1_158_058_987_940_271_617)],
                     usage: .init(promptTokens: 2500, completionTokens: 300, requests: 2), attempts: 3, seconds: 12.5,
                     error: (kind: "exhausted", message: "gave up after 6 attempts: HTTP 500")))

    static func parse(_ text: String) throws -> ReasoningRecord {
        try ReasoningRecord(json: JSONValue.parse(text), file: "reasoning.jsonl", line: 3)
    }

    @Test func bothShapesComeBackAsWritten() throws {
        let text = Self.asked.json.jsonText
        #expect(try Self.parse(text) == Self.asked)
        #expect(try Self.parse(text).json.jsonText == text)
        let skipped = ReasoningRecord(skipped: "p2:labevents:1", task: "labevents", template: "ehr-r1", reason: "no graph (no_pairs)")
        let read = try Self.parse(skipped.json.jsonText)
        #expect(read == skipped && read.asked == nil && read.reason == "no graph (no_pairs)")
        #expect(ReasoningRecord.Status.ok.answered && ReasoningRecord.Status.partial.answered && !ReasoningRecord.Status.failed.answered)
    }

    @Test func aMissingFieldIsNamedNotDefaulted() throws {
        guard case .object(let members) = Self.asked.json else { return }
        for key in ["id", "status", "template", "format", "model", "context", "targets", "target_codes", "knowledge", "graph",
                    "completions", "usage", "attempts", "seconds", "parameters"] {
            let text = JSONValue.object(members.filter { $0.0 != key }).jsonText
            let error = #expect(throws: InputError.self) { try Self.parse(text) }
            #expect(error?.field == key && error?.line == 3, "\(key)")
        }
        // Inside: a completion without its finish reason, a usage without its requests.
        var record = Self.asked
        guard case .object(var completion) = record.asked!.completions[0].json else { return }
        completion.removeAll { $0.0 == "finish_reason" }
        guard case .object(var top) = record.json else { return }
        top = top.map { $0.0 == "completions" ? ($0.0, .array([.object(completion)])) : $0 }
        let inner = #expect(throws: InputError.self) { try Self.parse(JSONValue.object(top).jsonText) }
        #expect(inner?.field == "completions[0].finish_reason")
        record.asked!.usage = .init()
        guard case .object(var usageless) = record.json else { return }
        usageless = usageless.map { $0.0 == "usage" ? ($0.0, .object([("prompt_tokens", .integer(1))])) : $0 }
        let usage = #expect(throws: InputError.self) { try Self.parse(JSONValue.object(usageless).jsonText) }
        #expect(usage?.field == "usage.completion_tokens")
        // A skipped record needs its reason.
        let skipped = #expect(throws: InputError.self) {
            try Self.parse(#"{"id":"x","task":"t","status":"skipped","template":"ehr-r1"}"#)
        }
        #expect(skipped?.field == "reason")
        let status = #expect(throws: InputError.self) {
            try Self.parse(#"{"id":"x","task":"t","status":"done","template":"ehr-r1"}"#)
        }
        #expect(status?.message == "unknown value \"done\"")
    }
}
