import EHR
import Foundation
import Runtime
import LLM
import Reasoning
import TGSupport

/// MIMIC-Instr's instruction-following data from notes: a model reads an
/// admission's events and its discharge summary and writes question/answer
/// pairs about the events; the filter keeps the pairs whose answers cite
/// the record and do not copy the note.
public enum NotesQA {
    /// One note a model is asked about: the patient's note event and the
    /// events of its admission before it (the context).
    public struct Item: Sendable {
        public var id: String
        public var noteIndex: Int
        public var admission: String
        public var contextEvents: [Int]
    }

    /// The notes of `patient` worth asking about: events named in
    /// `noteEvents` with text and an admission, and at least one event of
    /// that admission before them. Ids: `patient:notes:EVENT-INDEX`.
    public static func items(of patient: Patient, noteEvents: Set<String>) -> [Item] {
        var items: [Item] = []
        for (index, event) in patient.events.enumerated() where noteEvents.contains(event.name) {
            guard let admission = event.admission, let text = event.text, !text.isEmpty else { continue }
            let context = patient.events.indices.filter { other in
                other < index && patient.events[other].admission == admission && patient.events[other].time < event.time
                    && !noteEvents.contains(patient.events[other].name)
            }
            guard !context.isEmpty else { continue }
            items.append(Item(id: "\(patient.id):notes:\(index)", noteIndex: index, admission: admission, contextEvents: context))
        }
        return items
    }

    /// The item's context as the reasoning prompts render it (`## Title
    /// [time]` blocks), oldest events dropped first to fit `maxTokens`.
    public static func context(of item: Item, in patient: Patient, format: ContextFormat, maxTokens: Int) -> (text: String, dropped: Int) {
        let event = patient.events[item.noteIndex]
        let sample = Sample(id: item.id, patient: patient.id, task: "notes", split: .train, targetEvent: item.noteIndex,
                            targetTime: event.time, admission: item.admission, contextEvents: item.contextEvents, targets: [])
        return TimelineRenderer(format: format).render(sample, of: patient, maxTokens: maxTokens)
    }

    /// The note cut to about `maxTokens` tokens (4 bytes a token), at a
    /// line or word boundary.
    public static func note(_ text: String, maxTokens: Int) -> String {
        let limit = max(0, maxTokens) * 4
        guard text.utf8.count > limit else { return text }
        var cut = String(decoding: text.utf8.prefix(limit), as: UTF8.self)
        if let boundary = cut.lastIndex(where: { $0 == "\n" || $0 == " " }) { cut = String(cut[..<boundary]) }
        return cut + "\n[...]"
    }

    /// The question/answer pairs of a completion: JSON objects, one a line
    /// (or a JSON array of them; code fences ignored). Lines that are not
    /// such an object are counted as unreadable.
    public static func pairs(in text: String) -> (pairs: [(question: String, answer: String)], unreadable: Int) {
        var pairs: [(question: String, answer: String)] = []
        var unreadable = 0
        func take(_ value: JSONValue) -> Bool {
            guard let question = value["question"]?.stringValue, let answer = value["answer"]?.stringValue else { return false }
            pairs.append((question, answer))
            return true
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("["), let array = (try? JSONValue.parse(Array(trimmed.utf8)))?.arrayValue {
            for value in array where !take(value) { unreadable += 1 }
            return (pairs, unreadable)
        }
        for line in text.split(whereSeparator: \.isNewline) {
            let candidate = line.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: ","))
            guard !candidate.isEmpty, !candidate.hasPrefix("```") else { continue }
            if let value = try? JSONValue.parse(Array(candidate.utf8)), take(value) { continue }
            unreadable += 1
        }
        return (pairs, unreadable)
    }

    /// Lower-case words of a text (letters and digits).
    static func words(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// The note's word runs of `length`, for the copy check.
    public struct NoteShingles: Sendable {
        public let length: Int
        let runs: Set<String>

        public init(note: String, length: Int) {
            self.length = length
            let words = NotesQA.words(note)
            var runs = Set<String>()
            if words.count >= length {
                for start in 0...(words.count - length) { runs.insert(words[start..<(start + length)].joined(separator: " ")) }
            }
            self.runs = runs
        }

        /// Whether `text` repeats `length` consecutive words of the note.
        public func copied(in text: String) -> Bool {
            let words = NotesQA.words(text)
            guard words.count >= length else { return false }
            return (0...(words.count - length)).contains { runs.contains(words[$0..<($0 + length)].joined(separator: " ")) }
        }
    }

    /// Why a pair is left out, in the order the checks apply.
    public enum Rejection: String, Sendable, CaseIterable {
        case empty
        case duplicate
        /// The answer cites no event (`**Event [time]**`).
        case noCitation = "no_citation"
        /// A cited event or a quoted value is not in the context.
        case ungrounded
        /// The question or the answer repeats a run of the note's words.
        case copiesNote = "copies_note"
    }

    /// The verdict on one pair.
    public static func judge(question: String, answer: String, context: ContextEvents, note: NoteShingles,
                             asked: inout Set<String>) -> (rejection: Rejection?, grounding: Grounding) {
        let grounding = Grounding.check(chain: answer, context: context)
        let key = words(question).joined(separator: " ")
        if key.isEmpty || words(answer).isEmpty { return (.empty, grounding) }
        guard asked.insert(key).inserted else { return (.duplicate, grounding) }
        if grounding.cited == 0 { return (.noCitation, grounding) }
        if !grounding.unsupported.isEmpty { return (.ungrounded, grounding) }
        if note.copied(in: question) || note.copied(in: answer) { return (.copiesNote, grounding) }
        return (nil, grounding)
    }
}

/// The prompt `instruct notes` sends: a text with `{context}`, `{note}`
/// and `{pairs}` (the shipped `notes-qa-prompt.txt`, or a user's file).
public struct NotesQAPrompt: Sendable {
    public var text: String
    public var source: String
    public var sha256: String

    public static func load(_ path: String?) throws -> NotesQAPrompt {
        let text: String
        let source: String
        if let path {
            guard let data = FileManager.default.contents(atPath: path), let decoded = String(data: data, encoding: .utf8) else {
                throw InputError(file: path, message: "cannot read the prompt file (missing, or not UTF-8)")
            }
            text = decoded
            source = path
        } else {
            guard let url = Bundle.module.url(forResource: "notes-qa-prompt", withExtension: "txt") else {
                throw InputError(file: "notes-qa-prompt.txt", message: "missing from the build's resources")
            }
            text = try String(contentsOf: url, encoding: .utf8)
            source = "shipped"
        }
        for placeholder in ["{context}", "{note}", "{pairs}"] where !text.contains(placeholder) {
            throw InputError(file: path ?? "notes-qa-prompt.txt", field: placeholder, message: "the prompt has no \(placeholder)")
        }
        var hash = SHA256()
        hash.update(Array(text.utf8))
        return NotesQAPrompt(text: text, source: source, sha256: hash.hexDigest())
    }

    public func messages(context: String, note: String, pairs: Int) -> [ChatMessage] {
        // Placeholders are filled in one pass, so a note quoting "{context}" stays as it is.
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let tail = rest[open...]
            if tail.hasPrefix("{context}") {
                result += context
                rest = tail.dropFirst("{context}".count)
            } else if tail.hasPrefix("{note}") {
                result += note
                rest = tail.dropFirst("{note}".count)
            } else if tail.hasPrefix("{pairs}") {
                result += String(pairs)
                rest = tail.dropFirst("{pairs}".count)
            } else {
                result += "{"
                rest = tail.dropFirst()
            }
        }
        result += rest
        return [ChatMessage(role: "user", content: result)]
    }
}
