import EHR
import Foundation
import Reasoning
import Runtime
import TGSupport

/// `instruct notes-filter`: the pairs of the merged answers
/// (`RUN/notes-qa.jsonl`) that stand on the record, into
/// `RUN/instruct-notes.jsonl` (all or nothing) with counts by reason. A
/// pair is kept when its answer cites at least one event of its context,
/// every event it cites is there at that time and every value it quotes
/// with a unit is a value of the context (the reasoning filter's grounding
/// check), and neither its question nor its answer repeats `copyWords`
/// consecutive words of the note.
public struct NotesQAFilter: Sendable {
    public var copyWords = 8

    public init() {}

    public struct Summary: Sendable {
        public var notes = 0, notesAnswered = 0, pairs = 0, kept = 0, unreadableLines = 0
        public var rejected: [String: Int] = [:]
        public var keptBySplit: [String: Int] = [:]

        public var json: JSONValue {
            .object([("notes", .integer(Int64(notes))), ("notes_answered", .integer(Int64(notesAnswered))),
                     ("pairs", .integer(Int64(pairs))), ("kept", .integer(Int64(kept))),
                     ("kept_by_split", .object(keptBySplit.keys.sorted().map { ($0, .integer(Int64(keptBySplit[$0]!))) })),
                     ("rejected", .object(NotesQA.Rejection.allCases.compactMap { rule in rejected[rule.rawValue].map { (rule.rawValue, .integer(Int64($0))) } })),
                     ("unreadable_lines", .integer(Int64(unreadableLines)))])
        }
    }

    /// Reads `answers` (merged notes-qa records) and the notes from
    /// `patients`; writes the kept pairs to `output` and every verdict to
    /// `verdicts`.
    public func run(answers: String, patients: String, output: String, verdicts: String) throws -> Summary {
        let index = try RecordIndex(path: patients, key: "patient")
        let writer = try JSONLinesWriter(path: output)
        let verdictWriter = try JSONLinesWriter(path: verdicts)
        let reader = try LineReader(path: answers)
        var summary = Summary()
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            let fields = try RecordFields(JSONValue.parse(line), file: answers, line: reader.lineNumber)
            let id = try fields.string("id"), patientID = try fields.string("patient"), split = try fields.string("split")
            let noteIndex = try fields.int("note_event"), status = try fields.string("status")
            summary.notes += 1
            guard status == "ok" else { continue }
            summary.notesAnswered += 1
            let patient = try Patient.decoded(index.record(patientID), id: patientID, sampleID: id, file: patients)
            guard patient.events.indices.contains(noteIndex), let note = patient.events[noteIndex].text else {
                throw InputError(file: answers, line: reader.lineNumber, field: "note_event",
                                 message: "patient \(patientID) has no note at event \(noteIndex) (answers of another import?)")
            }
            let context = ContextEvents(rendered: try fields.string("context"))
            let shingles = NotesQA.NoteShingles(note: note, length: copyWords)
            var asked = Set<String>()
            let completions = fields.value["completions"]?.arrayValue ?? []
            for (choice, completion) in completions.enumerated() {
                let (pairs, unreadable) = NotesQA.pairs(in: completion["text"]?.stringValue ?? "")
                summary.unreadableLines += unreadable
                for (number, pair) in pairs.enumerated() {
                    summary.pairs += 1
                    let (rejection, grounding) = NotesQA.judge(question: pair.question, answer: pair.answer, context: context,
                                                               note: shingles, asked: &asked)
                    let pairID = "\(id):\(choice + 1):\(number + 1)"
                    try verdictWriter.writeLine(.object([("id", .string(pairID)), ("kept", .bool(rejection == nil)),
                                                         ("reason", rejection.map { .string($0.rawValue) } ?? .null),
                                                         ("grounding", grounding.json)]))
                    if let rejection {
                        summary.rejected[rejection.rawValue, default: 0] += 1
                        continue
                    }
                    summary.kept += 1
                    summary.keptBySplit[split, default: 0] += 1
                    try writer.writeLine(.object([
                        ("id", .string(pairID)), ("patient", .string(patientID)), ("admission", fields.value["admission"] ?? .null),
                        ("split", .string(split)), ("source", .string("notes")), ("question", .string(pair.question)),
                        ("answer", .string(pair.answer)), ("model", fields.value["model"] ?? .null),
                        ("note_event", .integer(Int64(noteIndex))), ("grounding", grounding.json),
                    ]))
                }
            }
        }
        try writer.commit()
        try verdictWriter.commit()
        return summary
    }
}
