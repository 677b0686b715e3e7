import Foundation
import TGSupport

/// A decision-making task: predict the items of the next event of one type
/// from what happened before it (REFERENCE §1, "Tasks and samples").
public struct TaskDefinition: Equatable, Sendable {
    public enum Metric: String, Sendable { case recall, exactMatch = "exact_match" }

    public var name: String
    /// Event names the task predicts (a MIMIC table and its FHIR twin).
    public var events: [String]
    /// The record key whose values are the answer.
    public var targetKey: String
    public var instruction: String
    public var metric: Metric
    /// Event names never shown in the context (they leak the answer).
    public var hiddenEvents: [String]
    /// How far back the context reaches from the target event.
    public var contextHours: Double
    /// Only events of the target's admission (when the target has one).
    public var sameAdmission: Bool
    /// Add the admission's own `admissions` event even when older.
    public var includeAdmission: Bool
    /// Add the most recent discharge summary of an earlier admission.
    public var includePreviousDischarge: Bool
}

/// A task-definition file: JSON with optional `defaults` and a `tasks`
/// array (see docs/TASKS.md). The shipped default reproduces EHR-R1's
/// decision-making tasks.
public struct TaskSet: Equatable, Sendable {
    public var tasks: [TaskDefinition]

    /// The shipped EHR-R1 task set.
    public static func standard() throws -> TaskSet {
        guard let url = Bundle.module.url(forResource: "ehr-r1-tasks", withExtension: "json") else {
            throw InputError(file: "ehr-r1-tasks.json", message: "the shipped task file is missing from the bundle")
        }
        return try TaskSet(contentsOf: url.path)
    }

    /// The shipped file's text, for users who want to copy and edit it.
    public static func standardText() throws -> String {
        guard let url = Bundle.module.url(forResource: "ehr-r1-tasks", withExtension: "json") else {
            throw InputError(file: "ehr-r1-tasks.json", message: "the shipped task file is missing from the bundle")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    public init(tasks: [TaskDefinition]) { self.tasks = tasks }

    /// The task file at `path`, or the shipped set when there is none.
    public static func load(_ path: String?) throws -> TaskSet {
        try path.map { try TaskSet(contentsOf: $0) } ?? standard()
    }

    /// Only the tasks named in a comma-separated list (all when nil);
    /// an unknown name is an error naming it.
    public func selecting(_ names: String?) throws -> TaskSet {
        guard let names else { return self }
        let wanted = Set(names.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        let unknown = wanted.subtracting(tasks.map(\.name))
        guard unknown.isEmpty else {
            throw UsageError("unknown task(s): \(unknown.sorted().joined(separator: ", ")); tasks: \(tasks.map(\.name).joined(separator: ", "))")
        }
        return TaskSet(tasks: tasks.filter { wanted.contains($0.name) })
    }

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "cannot read")
        }
        let root: JSONValue
        do {
            root = try data.withUnsafeBytes { try JSONValue.parse($0.bindMemory(to: UInt8.self)) }
        } catch let error as JSONSyntaxError {
            throw InputError(file: path, message: error.description)
        }
        try self.init(json: root, file: path)
    }

    init(json root: JSONValue, file: String) throws {
        func fail(_ field: String, _ message: String) -> InputError { InputError(file: file, field: field, message: message) }
        guard root.objectValue != nil else { throw fail("", "expected an object with a \"tasks\" array") }
        for (key, _) in root.objectValue! where !["description", "defaults", "tasks"].contains(key) {
            throw fail(key, "unknown field")
        }
        let defaults = root["defaults"] ?? .object([])
        guard defaults.objectValue != nil else { throw fail("defaults", "expected an object") }
        guard let list = root["tasks"]?.arrayValue, !list.isEmpty else { throw fail("tasks", "expected a non-empty array") }
        let known: Set<String> = ["name", "events", "target_key", "instruction", "metric", "hidden_events", "context_hours",
                                  "same_admission", "include_admission", "include_previous_discharge"]
        for (key, _) in defaults.objectValue! where !known.contains(key) { throw fail("defaults.\(key)", "unknown field") }
        var tasks: [TaskDefinition] = []
        for (index, task) in list.enumerated() {
            let path = "tasks[\(index)]"
            guard let members = task.objectValue else { throw fail(path, "expected an object") }
            for (key, _) in members where !known.contains(key) { throw fail("\(path).\(key)", "unknown field") }
            func value(_ key: String) -> JSONValue? { task[key] ?? defaults[key] }
            func string(_ key: String) throws -> String {
                guard let text = value(key)?.stringValue, !text.isEmpty else { throw fail("\(path).\(key)", "expected a non-empty string") }
                return text
            }
            func strings(_ key: String, required: Bool) throws -> [String] {
                guard let raw = value(key) else {
                    if required { throw fail("\(path).\(key)", "missing") }
                    return []
                }
                guard let items = raw.arrayValue?.compactMap(\.stringValue), items.count == raw.arrayValue?.count else {
                    throw fail("\(path).\(key)", "expected an array of strings")
                }
                if required, items.isEmpty { throw fail("\(path).\(key)", "must not be empty") }
                return items
            }
            func flag(_ key: String, _ fallback: Bool) throws -> Bool {
                guard let raw = value(key) else { return fallback }
                guard case .bool(let flag) = raw else { throw fail("\(path).\(key)", "expected true or false") }
                return flag
            }
            let metricName = try string("metric")
            guard let metric = TaskDefinition.Metric(rawValue: metricName) else {
                throw fail("\(path).metric", "expected recall or exact_match, got \"\(metricName)\"")
            }
            var hours = 24.0
            if let raw = value("context_hours") {
                guard let number = raw.doubleValue, number > 0 else { throw fail("\(path).context_hours", "expected a positive number") }
                hours = number
            }
            let definition = TaskDefinition(
                name: try string("name"), events: try strings("events", required: true), targetKey: try string("target_key"),
                instruction: try string("instruction"), metric: metric, hiddenEvents: try strings("hidden_events", required: false),
                contextHours: hours, sameAdmission: try flag("same_admission", true),
                includeAdmission: try flag("include_admission", true),
                includePreviousDischarge: try flag("include_previous_discharge", true))
            guard !tasks.contains(where: { $0.name == definition.name }) else {
                throw fail("\(path).name", "duplicate task name \"\(definition.name)\"")
            }
            tasks.append(definition)
        }
        self.tasks = tasks
    }
}
