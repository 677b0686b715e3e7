import EHR
import Foundation
import Runtime
import Testing
@testable import Instruct
import Reasoning
import TGSupport

/// The notes QA pieces on hand-made text: reading pairs, the copy check,
/// the verdicts, the prompt's placeholders, the items of a patient.
@Suite struct NotesQATests {
    @Test func pairsAreReadFromLinesOrAnArray() {
        let lines = NotesQA.pairs(in: """
            Here they are:
            ```json
            {"question": "Q1?", "answer": "A1."},
            {"question": "Q2?"}
            {"question": "Q3?", "answer": "A3."}
            ```
            """)
        #expect(lines.pairs.map(\.question) == ["Q1?", "Q3?"] && lines.unreadable == 2)
        let array = NotesQA.pairs(in: #"[{"question": "Q?", "answer": "A."}, {"q": 1}]"#)
        #expect(array.pairs.count == 1 && array.unreadable == 1)
    }

    @Test func theVerdictsFollowTheRulesInOrder() {
        let context = ContextEvents(rendered: "## Laboratory Test Events [2150-01-02 08:00:00]\n| Sodium | 131 | mmol/L |\n")
        let note = NotesQA.NoteShingles(note: "The patient was admitted with shortness of breath and treated with diuretics for heart failure.", length: 8)
        var asked = Set<String>()
        func verdict(_ question: String, _ answer: String) -> NotesQA.Rejection? {
            NotesQA.judge(question: question, answer: answer, context: context, note: note, asked: &asked).rejection
        }
        #expect(verdict("What was the sodium?", "**Laboratory Test Events [2150-01-02 08:00]**: sodium 131 mmol/L.") == nil)
        #expect(verdict("what was the SODIUM", "Again.") == .duplicate)
        #expect(verdict("Why admitted?", "   ") == .empty)
        #expect(verdict("Was it low?", "Yes, it was low.") == .noCitation)
        #expect(verdict("And potassium?", "**Laboratory Test Events [2150-01-02 08:00]**: potassium 6.1 mmol/L.") == .ungrounded)
        #expect(verdict("Why?", "**Laboratory Test Events [2150-01-02 08:00]**: admitted with shortness of breath and treated with diuretics.") == .copiesNote)
        #expect(verdict("Why, in short?", "**Laboratory Test Events [2150-01-02 08:00]**: breathless, so diuretics were given.") == nil)
    }

    @Test func thePromptFillsItsPlaceholdersOnceAndNeedsThemAll() throws {
        let prompt = try NotesQAPrompt.load(nil)
        let text = prompt.messages(context: "EVENTS {note}", note: "NOTE", pairs: 3)[0].content
        #expect(text.contains("EVENTS {note}") && text.contains("NOTE") && text.contains("Write 3 clinically"))
        let path = NSTemporaryDirectory() + "tg-notes-prompt-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "Write {pairs} about {context}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try NotesQAPrompt.load(path) }
    }

    @Test func aNoteIsAskedAboutWithTheEventsOfItsAdmissionBeforeIt() {
        func time(_ day: Int, _ hour: Int) -> Timestamp { Timestamp(year: 2150, month: 1, day: day, hour: hour)! }
        let patient = Patient(id: "p", events: [
            Event(name: "labevents", time: time(1, 8), admission: "h0", records: [Record(items: [Item("item_name", .string("Sodium"))])]),
            Event(name: "labevents", time: time(2, 8), admission: "h1", records: [Record(items: [Item("item_name", .string("Sodium"))])]),
            Event(name: "discharge", time: time(3, 8), admission: "h1", text: "Summary."),
            Event(name: "diagnoses_icd", time: time(3, 9), admission: "h1", records: [Record(items: [Item("long_title", .string("Sepsis"))])]),
            Event(name: "discharge", time: time(4, 8), admission: "h2", text: "Nothing before it."),
        ])
        let items = NotesQA.items(of: patient, noteEvents: ["discharge"])
        #expect(items.map(\.id) == ["p:notes:2"] && items[0].contextEvents == [1])
        #expect(NotesQA.note(String(repeating: "word ", count: 100), maxTokens: 10).hasSuffix("[...]"))
    }
}
