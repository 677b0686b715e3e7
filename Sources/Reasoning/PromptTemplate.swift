import Foundation
import LLM
import TGSupport

/// What a completion must look like; decides the filter's checks.
public enum AnswerFormat: String, Sendable {
    /// `## Extraction`, `## Reasoning`, `## Final Results` (EHR-R1).
    case sections
    /// Free reasoning ending in "Therefore, the answer is ..." (EHR-R1
    /// without format).
    case answer
    /// `<think>...</think><diagnosis>CODE</diagnosis>` (DeepICD-R1).
    case deepicd
}

/// The values a template's placeholders take for one sample.
public struct PromptValues: Sendable {
    public var instruction: String
    public var context: String
    /// Relation paths, one per line (`term -> relation -> term`).
    public var knowledge: [String]
    /// The same paths as `[term, relation, term, ...]`.
    public var knowledgePaths: [[String]]
    public var groundTruth: [String]
    public var task: String

    public init(instruction: String, context: String, knowledge: [String], knowledgePaths: [[String]] = [], groundTruth: [String],
                task: String) {
        self.instruction = instruction
        self.context = context
        self.knowledge = knowledge
        self.knowledgePaths = knowledgePaths
        self.groundTruth = groundTruth
        self.task = task
    }
}

/// A prompt template file: a few `key: value` header lines, then a
/// `---- system ----` and a `---- user ----` part with `{{placeholders}}`.
/// Lines starting with `#` before the parts are comments.
public struct PromptTemplate: Sendable {
    public static let shipped = ["ehr-r1-with-knowledge", "ehr-r1-without-knowledge", "ehr-r1-without-format",
                                 "with-knowledge", "without-knowledge", "without-format", "deepicd"]

    /// The template `reason` uses unless told otherwise: EHR-R1's own.
    public static let standard = "ehr-r1-with-knowledge"

    public var name: String
    public var format: AnswerFormat
    public var usesKnowledge: Bool
    public var system: String
    public var user: String
    /// Of the file's text, for provenance.
    public var sha256: String

    /// `ground_truth_json` is the items as one JSON list (`["a", "b"]`, as
    /// EHR-R1 writes them); `knowledge_lists` each path as a JSON list of
    /// terms and relations, one per line.
    public static let placeholders: Set<String> = ["instruction", "context", "knowledge", "knowledge_lists", "ground_truth",
                                                   "ground_truth_json", "task"]

    /// A shipped template by name, or a template file by path.
    public static func load(_ nameOrPath: String) throws -> PromptTemplate {
        if shipped.contains(nameOrPath) {
            guard let url = Bundle.module.url(forResource: nameOrPath, withExtension: "txt", subdirectory: "prompts") else {
                throw UsageError("the shipped template \(nameOrPath) is missing from the build")
            }
            return try PromptTemplate(text: String(contentsOf: url, encoding: .utf8), name: nameOrPath, file: url.path)
        }
        guard let text = try? String(contentsOfFile: nameOrPath, encoding: .utf8) else {
            throw UsageError("\(nameOrPath): no such template file (shipped: \(shipped.joined(separator: ", ")))")
        }
        let name = ((nameOrPath as NSString).lastPathComponent as NSString).deletingPathExtension
        return try PromptTemplate(text: text, name: name, file: nameOrPath)
    }

    /// The text of a shipped template, to copy and edit.
    public static func shippedText(_ name: String) throws -> String {
        guard shipped.contains(name), let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "prompts") else {
            throw UsageError("no shipped template \(name) (shipped: \(shipped.joined(separator: ", ")))")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    public init(text: String, name: String, file: String) throws {
        self.name = name
        var hasher = SHA256()
        hasher.update(Array(text.utf8))
        sha256 = hasher.hexDigest()
        var format: AnswerFormat?
        var knowledge: Bool?
        var part: String?
        var parts: [String: [Substring]] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "---- system ----" || trimmed == "---- user ----" {
                part = trimmed.contains("system") ? "system" : "user"
                guard parts[part!] == nil else {
                    throw InputError(file: file, line: number + 1, message: "the \(part!) part appears twice")
                }
                parts[part!] = []
                continue
            }
            if let part {
                parts[part]!.append(line)
                continue
            }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw InputError(file: file, line: number + 1, message: "expected `key: value` or a `---- system ----` / `---- user ----` line")
            }
            let key = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "format":
                guard let parsed = AnswerFormat(rawValue: value) else {
                    throw InputError(file: file, line: number + 1, field: "format", message: "\"\(value)\" is not sections, answer or deepicd")
                }
                format = parsed
            case "knowledge":
                guard value == "yes" || value == "no" else {
                    throw InputError(file: file, line: number + 1, field: "knowledge", message: "\"\(value)\" is not yes or no")
                }
                knowledge = value == "yes"
            default:
                throw InputError(file: file, line: number + 1, field: key, message: "unknown header (known: format, knowledge)")
            }
        }
        guard let format else { throw InputError(file: file, field: "format", message: "missing (sections, answer or deepicd)") }
        guard let user = parts["user"], !user.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw InputError(file: file, message: "no `---- user ----` part")
        }
        self.format = format
        self.system = (parts["system"] ?? []).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        self.user = user.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        for placeholder in Self.names(in: self.system + self.user) where !Self.placeholders.contains(placeholder) {
            throw InputError(file: file, field: placeholder,
                             message: "unknown placeholder {{\(placeholder)}} (known: \(Self.placeholders.sorted().joined(separator: ", ")))")
        }
        usesKnowledge = knowledge ?? !Set(Self.names(in: self.user)).isDisjoint(with: ["knowledge", "knowledge_lists"])
    }

    static func names(in text: String) -> [String] {
        var names: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            names.append(String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// The chat messages for one sample.
    public func messages(_ values: PromptValues) -> [ChatMessage] {
        let knowledge = values.knowledge.isEmpty ? "(no relation paths were found for this patient)" : values.knowledge.joined(separator: "\n")
        func list(_ items: [String]) -> String { "[" + items.map { JSONValue.string($0).jsonText }.joined(separator: ", ") + "]" }
        let lists = values.knowledgePaths.isEmpty ? knowledge : values.knowledgePaths.map(list).joined(separator: "\n")
        let table = ["instruction": values.instruction, "context": values.context, "knowledge": knowledge,
                     "knowledge_lists": lists, "ground_truth": values.groundTruth.joined(separator: "\n"),
                     "ground_truth_json": list(values.groundTruth), "task": values.task]
        func fill(_ text: String) -> String {
            var result = ""
            var rest = text[...]
            while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
                result += rest[..<open.lowerBound]
                let key = String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
                result += table[key] ?? ""
                rest = rest[close.upperBound...]
            }
            return result + rest
        }
        var messages: [ChatMessage] = []
        if !system.isEmpty { messages.append(ChatMessage(role: "system", content: fill(system))) }
        messages.append(ChatMessage(role: "user", content: fill(user)))
        return messages
    }
}
