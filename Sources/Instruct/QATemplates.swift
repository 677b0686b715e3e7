import EHR
import Foundation
import TGSupport

/// One question/answer template over a patient's events: which events it
/// reads (`event`, and the record fields `item`, `value`, `unit`, `flag`),
/// what it asks (`question`, with placeholders), and how its answer is
/// computed from the record (`kind`). The answer is never written in the
/// file: it is the data's.
public struct QATemplate: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A record's value at a time ("What was the patient's Sodium at 2150-01-01 08:00:00?").
        case valueAtTime = "value_at_time"
        /// The first or last value of an item in an admission, with its time.
        case firstValue = "first_value", lastValue = "last_value"
        /// How many times an item was recorded in an admission.
        case count
        /// An item's values the record flags in an admission (a `flag` that
        /// is not one of `normal_flags`: MIMIC-IV's "abnormal", FHIR's
        /// "High", "Low", "Critical high"), or "None".
        case abnormalValues = "abnormal_values"
        /// The distinct items recorded in a window of `hours` from an event's time.
        case itemsInInterval = "items_in_interval"
        /// Which of two items of an admission was recorded first.
        case whichFirst = "which_first"
        /// The distinct items of an admission (its diagnoses).
        case admissionItems = "admission_items"

        /// The placeholders its question may use.
        var placeholders: Set<String> {
            switch self {
            case .valueAtTime: ["item", "time"]
            case .firstValue, .lastValue, .count, .abnormalValues: ["item", "admission"]
            case .itemsInInterval: ["start", "end"]
            case .whichFirst: ["a", "b", "admission"]
            case .admissionItems: ["admission"]
            }
        }

        /// Whether it needs the record's value.
        var needsValue: Bool { [.valueAtTime, .firstValue, .lastValue, .abnormalValues].contains(self) }
    }

    public var name: String
    public var kind: Kind
    public var event: String
    public var item: String
    public var value: String?
    public var unit: String?
    public var flag: String?
    /// Flag values that mean normal (compared without case).
    public var normalFlags: [String] = ["normal", "n"]
    public var hours: Int?
    public var question: String

    public init(name: String, kind: Kind, event: String, item: String, value: String? = nil, unit: String? = nil, flag: String? = nil,
                hours: Int? = nil, question: String) {
        self.name = name
        self.kind = kind
        self.event = event
        self.item = item
        self.value = value
        self.unit = unit
        self.flag = flag
        self.hours = hours
        self.question = question
    }

    /// Whether a flag marks a result abnormal.
    func isAbnormal(_ flag: String?) -> Bool {
        guard let flag, !flag.isEmpty else { return false }
        return !normalFlags.contains { $0.caseInsensitiveCompare(flag) == .orderedSame }
    }

    /// The record fields it reads.
    public var fields: [String] { [item, value, unit, flag].compactMap { $0 } }

    /// The question with its placeholders filled.
    func ask(_ values: [String: String]) -> String {
        var text = question
        for (key, value) in values { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
        return text
    }
}

/// A template file: `{"templates": [...]}` (see the shipped
/// `qa-templates.json`), checked as a whole before any question is asked.
public struct QATemplateSet: Sendable {
    public var templates: [QATemplate]
    /// Where it was read from (the shipped file's name, or the path).
    public var source: String

    /// The shipped templates' text, to copy and edit.
    public static func shippedText() throws -> String {
        guard let url = Bundle.module.url(forResource: "qa-templates", withExtension: "json") else {
            throw UsageError("the shipped qa-templates.json is missing from the build")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The shipped set, or the file at `path`.
    public static func load(_ path: String?) throws -> QATemplateSet {
        guard let path else { return try QATemplateSet(text: try shippedText(), file: "qa-templates.json (shipped)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, message: "cannot read the template file") }
        return try QATemplateSet(text: String(decoding: data, as: UTF8.self), file: path)
    }

    init(text: String, file: String) throws {
        source = file
        let root: JSONValue
        do { root = try JSONValue.parse(text) } catch { throw InputError(file: file, message: "not JSON: \(error)") }
        guard let list = root["templates"]?.arrayValue else {
            throw InputError(file: file, field: "templates", message: "missing or not a list")
        }
        var names = Set<String>()
        templates = try list.enumerated().map { index, value in
            let template = try Self.template(value, at: "templates[\(index)]", file: file)
            guard names.insert(template.name).inserted else {
                throw InputError(file: file, field: "templates[\(index)].name", message: "\"\(template.name)\" is used twice")
            }
            return template
        }
        guard !templates.isEmpty else { throw InputError(file: file, field: "templates", message: "no templates") }
    }

    static func template(_ value: JSONValue, at path: String, file: String) throws -> QATemplate {
        guard let members = value.objectValue else { throw InputError(file: file, field: path, message: "expected an object") }
        let known: Set<String> = ["name", "kind", "event", "item", "value", "unit", "flag", "normal_flags", "hours", "question"]
        if let unknown = members.map(\.0).first(where: { !known.contains($0) }) {
            throw InputError(file: file, field: "\(path).\(unknown)", message: "unknown member (known: \(known.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String, required: Bool = true) throws -> String? {
            switch value[key] {
            case .string(let text)? where !text.isEmpty: return text
            case nil where !required: return nil
            case nil: throw InputError(file: file, field: "\(path).\(key)", message: "missing")
            default: throw InputError(file: file, field: "\(path).\(key)", message: "expected a non-empty string")
            }
        }
        let name = try string("name")!
        let kindName = try string("kind")!
        guard let kind = QATemplate.Kind(rawValue: kindName) else {
            throw InputError(file: file, field: "\(path).kind",
                             message: "unknown kind \"\(kindName)\" (known: \(QATemplate.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var hours: Int?
        if let given = value["hours"] {
            guard case .integer(let number) = given, number > 0 else {
                throw InputError(file: file, field: "\(path).hours", message: "expected a positive whole number of hours")
            }
            hours = Int(number)
        }
        var template = QATemplate(name: name, kind: kind, event: try string("event")!, item: try string("item")!,
                                  value: try string("value", required: kind.needsValue), unit: try string("unit", required: false),
                                  flag: try string("flag", required: kind == .abnormalValues),
                                  hours: kind == .itemsInInterval ? (hours ?? 24) : hours, question: try string("question")!)
        if let given = value["normal_flags"] {
            guard let list = given.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw InputError(file: file, field: "\(path).normal_flags", message: "expected a list of strings")
            }
            template.normalFlags = list.compactMap(\.stringValue)
        }
        // Every {placeholder} must be one the kind fills.
        var rest = Substring(template.question)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let placeholder = String(rest[rest.index(after: open)..<close])
            guard kind.placeholders.contains(placeholder) else {
                throw InputError(file: file, field: "\(path).question", message: "unknown placeholder {\(placeholder)} for kind \(kind.rawValue) "
                                 + "(it fills \(kind.placeholders.sorted().map { "{\($0)}" }.joined(separator: ", ")))")
            }
            rest = rest[rest.index(after: close)...]
        }
        return template
    }
}
