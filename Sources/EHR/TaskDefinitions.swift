import Foundation
import TGSupport

/// A decision-making task: predict the items of the next event of one type
/// from what happened before it (REFERENCE §1, "Tasks and samples").
public struct TaskDefinition: Equatable, Sendable {
    public enum Metric: String, Sendable { case recall, exactMatch = "exact_match", text }

    /// How a task's quota is drawn from its candidates.
    public enum Sampling: String, Sendable {
        /// Every candidate equally likely (the reference's default).
        case uniform
        /// Weighted by the inverse of the mean frequency of the sample's
        /// target items in the task (the reference's `target_weight`).
        case weighted
        /// An equal share of the quota for every label (a sample's first
        /// target item), water-filled.
        case balanced
    }

    public var name: String
    /// Event names the task predicts (a MIMIC table and its FHIR twin);
    /// `["*"]` predicts the next event of any type (`next_event`).
    public var events: [String]
    /// The record key whose values are the answer. Two keys are special:
    /// `text` (the event's free text, one item) and `event` (the event
    /// type's title, for `next_event`).
    public var targetKey: String
    /// A record's value of this key stands in when `targetKey` is empty
    /// (transfers: the care unit, else the event type).
    public var fallbackKey: String?
    public var instruction: String
    public var metric: Metric
    /// Event names never shown in the context (they leak the answer, or,
    /// as the window's `admissions` rows, belong to another stay).
    public var hiddenEvents: [String]
    /// How far back the context reaches from the target event.
    public var contextHours: Double
    /// Only events of the target's admission (when the target has one).
    public var sameAdmission: Bool
    /// Add the admission's own `admissions` event even when older.
    public var includeAdmission: Bool
    /// Add the most recent discharge summary of an earlier admission.
    public var includePreviousDischarge: Bool
    /// A sample needs more than this many context events of its window.
    public var minContextEvents: Int
    /// ... and fewer than this many.
    public var maxContextEvents: Int
    /// Keep a sample only when its admission's `admissions` event lies
    /// inside the window (the reference's rule for diagnoses / procedures:
    /// the window then covers the stay's start).
    public var admissionInWindow: Bool
    /// Most samples per split (nil: all).
    public var quota: Int?
    public var sampling: Sampling
}

/// How the events of one type are shown to a model: the title of its
/// block, the keys shown (in order), their labels, and the keys whose
/// values are known only after the event (never shown in a context).
public struct EventDisplay: Equatable, Sendable {
    public var title: String?
    /// nil: every key but the later-known ones, in record order.
    public var keys: [String]?
    public var labels: [String: String]
    public var laterKeys: Set<String>

    public init(title: String? = nil, keys: [String]? = nil, labels: [String: String] = [:], laterKeys: Set<String> = []) {
        self.title = title
        self.keys = keys
        self.labels = labels
        self.laterKeys = laterKeys
    }

    /// Whether the event's free text is shown (always unless `keys` is
    /// given without `text`).
    public var showsText: Bool { keys?.contains("text") ?? true }
}

/// The rendering side of a task file: event display specifications and
/// whether the context opens with the patient's demographics.
public struct ContextFormat: Equatable, Sendable {
    public var events: [String: EventDisplay]
    /// Keys known only later for every event type (added to each type's own).
    public var laterKeys: Set<String>
    public var demographics: Bool

    public init(events: [String: EventDisplay] = [:], laterKeys: Set<String> = [], demographics: Bool = false) {
        self.events = events
        self.laterKeys = laterKeys
        self.demographics = demographics
    }

    /// Shows every key of every event, no demographics: the raw view of
    /// `render --patients`.
    public static let raw = ContextFormat()

    public func display(_ name: String) -> EventDisplay {
        var display = events[name] ?? EventDisplay()
        display.laterKeys.formUnion(laterKeys)
        return display
    }
}

/// A task-definition file: JSON with optional `defaults`, `event_types`,
/// `later_keys`, `demographics` and a `tasks` array (see docs/TASKS.md).
/// The shipped default reproduces EHR-R1's decision-making tasks.
public struct TaskSet: Equatable, Sendable {
    public var tasks: [TaskDefinition]
    public var format: ContextFormat

    /// The task sets shipped with thinkgraph, by the name `--tasks` accepts:
    /// EHR-R1's (MIMIC-IV and FHIR imports) and the OMOP CDM one.
    public static let shippedNames = ["ehr-r1": "ehr-r1-tasks", "omop": "omop-tasks"]

    /// The shipped EHR-R1 task set.
    public static func standard() throws -> TaskSet { try shipped("ehr-r1") }

    /// The shipped EHR-R1 task file's text, for users who want to copy and edit it.
    public static func standardText() throws -> String { try shippedText("ehr-r1") }

    /// A shipped task set by name (`shippedNames`).
    public static func shipped(_ name: String) throws -> TaskSet {
        let text = try shippedText(name)
        return try TaskSet(text: text, file: "\(shippedNames[name]!).json")
    }

    public static func shippedText(_ name: String) throws -> String {
        guard let resource = shippedNames[name] else {
            throw UsageError("no shipped task set \"\(name)\" (shipped: \(shippedNames.keys.sorted().joined(separator: ", ")))")
        }
        guard let url = Bundle.module.url(forResource: resource, withExtension: "json") else {
            throw InputError(file: "\(resource).json", message: "the shipped task file is missing from the bundle")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// What `--tasks VALUE` names: a file when one exists at that path,
    /// else a shipped set's name.
    public static func isShippedName(_ value: String) -> Bool {
        shippedNames[value] != nil && !FileManager.default.fileExists(atPath: value)
    }

    /// The text of a task file or shipped set named by `--tasks`.
    public static func text(of value: String) throws -> String {
        if isShippedName(value) { return try shippedText(value) }
        guard let text = try? String(contentsOfFile: value, encoding: .utf8) else {
            throw InputError(file: value, message: "cannot read (and not a shipped task set: \(shippedNames.keys.sorted().joined(separator: ", ")))")
        }
        return text
    }

    public init(tasks: [TaskDefinition], format: ContextFormat = .raw) {
        self.tasks = tasks
        self.format = format
    }

    /// The task file at `path` (or the shipped set it names), or the
    /// shipped EHR-R1 set when there is none.
    public static func load(_ path: String?) throws -> TaskSet {
        guard let path else { return try standard() }
        if isShippedName(path) { return try shipped(path) }
        guard FileManager.default.fileExists(atPath: path) else {
            throw InputError(file: path, message: "no such task file, and not a shipped task set (\(shippedNames.keys.sorted().joined(separator: ", ")))")
        }
        return try TaskSet(contentsOf: path)
    }

    /// The task set a run's samples were made with (`RUN/tasks.json`, which
    /// `samples` writes), else `override`, else the shipped set.
    public static func forRun(_ run: String, override path: String? = nil) throws -> TaskSet {
        if let path { return try load(path) }
        let copy = run + "/tasks.json"
        if FileManager.default.fileExists(atPath: copy) { return try TaskSet(contentsOf: copy) }
        return try standard()
    }

    public func task(named name: String) -> TaskDefinition? { tasks.first { $0.name == name } }

    /// Only the tasks named in a comma-separated list (all when nil);
    /// an unknown name is an error naming it.
    public func selecting(_ names: String?) throws -> TaskSet {
        guard let names else { return self }
        let wanted = Set(names.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        let unknown = wanted.subtracting(tasks.map(\.name))
        guard unknown.isEmpty else {
            throw UsageError("unknown task(s): \(unknown.sorted().joined(separator: ", ")); tasks: \(tasks.map(\.name).joined(separator: ", "))")
        }
        return TaskSet(tasks: tasks.filter { wanted.contains($0.name) }, format: format)
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

    /// A task file's text; `file` names it in errors.
    public init(text: String, file: String) throws {
        let root: JSONValue
        do {
            root = try JSONValue.parse(text)
        } catch let error as JSONSyntaxError {
            throw InputError(file: file, message: error.description)
        }
        try self.init(json: root, file: file)
    }

    static let taskFields: Set<String> = [
        "name", "events", "target_key", "fallback_key", "instruction", "metric", "hidden_events", "context_hours",
        "same_admission", "include_admission", "include_previous_discharge", "min_context_events", "max_context_events",
        "admission_in_window", "quota", "sampling",
    ]

    init(json root: JSONValue, file: String) throws {
        let reader = TaskFileReader(file: file)
        guard let members = root.objectValue else { throw reader.fail("", "expected an object with a \"tasks\" array") }
        for (key, _) in members where !["description", "defaults", "tasks", "event_types", "later_keys", "demographics"].contains(key) {
            throw reader.fail(key, "unknown field")
        }
        format = try reader.contextFormat(root)
        let defaults = root["defaults"] ?? .object([])
        guard let defaultMembers = defaults.objectValue else { throw reader.fail("defaults", "expected an object") }
        for (key, _) in defaultMembers where !Self.taskFields.contains(key) { throw reader.fail("defaults.\(key)", "unknown field") }
        guard let list = root["tasks"]?.arrayValue, !list.isEmpty else { throw reader.fail("tasks", "expected a non-empty array") }
        var tasks: [TaskDefinition] = []
        for (index, task) in list.enumerated() {
            let definition = try reader.task(task, defaults: defaults, path: "tasks[\(index)]")
            guard !tasks.contains(where: { $0.name == definition.name }) else {
                throw reader.fail("tasks[\(index)].name", "duplicate task name \"\(definition.name)\"")
            }
            tasks.append(definition)
        }
        self.tasks = tasks
    }
}

/// Reads the parts of a task file, each bad value an error naming its field.
struct TaskFileReader {
    let file: String

    func fail(_ field: String, _ message: String) -> InputError { InputError(file: file, field: field, message: message) }

    func strings(_ raw: JSONValue?, _ field: String, required: Bool) throws -> [String] {
        guard let raw else {
            if required { throw fail(field, "missing") }
            return []
        }
        guard let list = raw.arrayValue else { throw fail(field, "expected an array of strings") }
        var items: [String] = []
        for (index, entry) in list.enumerated() {
            guard let text = entry.stringValue, !text.isEmpty else { throw fail("\(field)[\(index)]", "expected a non-empty string") }
            items.append(text)
        }
        if required, items.isEmpty { throw fail(field, "must not be empty") }
        return items
    }

    func contextFormat(_ root: JSONValue) throws -> ContextFormat {
        var format = ContextFormat()
        format.laterKeys = Set(try strings(root["later_keys"], "later_keys", required: false))
        if let raw = root["demographics"] {
            guard case .bool(let flag) = raw else { throw fail("demographics", "expected true or false") }
            format.demographics = flag
        }
        if let raw = root["event_types"] {
            guard let types = raw.objectValue else { throw fail("event_types", "expected an object of event name -> display") }
            for (name, spec) in types {
                let path = "event_types.\(name)"
                guard let members = spec.objectValue else { throw fail(path, "expected an object") }
                for (key, _) in members where !["title", "keys", "labels", "later_keys"].contains(key) {
                    throw fail("\(path).\(key)", "unknown field (known: title, keys, labels, later_keys)")
                }
                var display = EventDisplay()
                if let title = spec["title"] {
                    guard let text = title.stringValue, !text.isEmpty else { throw fail("\(path).title", "expected a non-empty string") }
                    display.title = text
                }
                if spec["keys"] != nil { display.keys = try strings(spec["keys"], "\(path).keys", required: true) }
                if let labels = spec["labels"] {
                    guard let entries = labels.objectValue else { throw fail("\(path).labels", "expected an object of key -> label") }
                    for (key, label) in entries {
                        guard let text = label.stringValue, !text.isEmpty else {
                            throw fail("\(path).labels.\(key)", "expected a non-empty string")
                        }
                        guard display.keys?.contains(key) ?? true else {
                            throw fail("\(path).labels.\(key)", "labels a key that is not in keys")
                        }
                        display.labels[key] = text
                    }
                }
                display.laterKeys = Set(try strings(spec["later_keys"], "\(path).later_keys", required: false))
                if let keys = display.keys, let shownLater = keys.first(where: { display.laterKeys.contains($0) || format.laterKeys.contains($0) }) {
                    throw fail("\(path).keys", "\"\(shownLater)\" is known only later (later_keys) and cannot be shown")
                }
                format.events[name] = display
            }
        }
        return format
    }

    func task(_ task: JSONValue, defaults: JSONValue, path: String) throws -> TaskDefinition {
        guard let members = task.objectValue else { throw fail(path, "expected an object") }
        for (key, _) in members where !TaskSet.taskFields.contains(key) { throw fail("\(path).\(key)", "unknown field") }
        func value(_ key: String) -> JSONValue? { task[key] ?? defaults[key] }
        func string(_ key: String) throws -> String {
            guard let text = value(key)?.stringValue, !text.isEmpty else { throw fail("\(path).\(key)", "expected a non-empty string") }
            return text
        }
        func flag(_ key: String, _ fallback: Bool) throws -> Bool {
            guard let raw = value(key) else { return fallback }
            guard case .bool(let flag) = raw else { throw fail("\(path).\(key)", "expected true or false") }
            return flag
        }
        func count(_ key: String, _ fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(key) else { return fallback }
            guard case .integer(let number) = raw, range.contains(Int(clamping: number)) else {
                throw fail("\(path).\(key)", "expected an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return Int(number)
        }
        let metricName = try string("metric")
        guard let metric = TaskDefinition.Metric(rawValue: metricName) else {
            throw fail("\(path).metric", "expected recall, exact_match or text, got \"\(metricName)\"")
        }
        var hours = 24.0
        if let raw = value("context_hours") {
            // At most a century: the window is turned into seconds.
            guard let number = raw.doubleValue, number > 0, number <= 876_600 else {
                throw fail("\(path).context_hours", "expected a positive number of hours (at most 876600)")
            }
            hours = number
        }
        var sampling = TaskDefinition.Sampling.uniform
        if value("sampling") != nil {
            let name = try string("sampling")
            guard let parsed = TaskDefinition.Sampling(rawValue: name) else {
                throw fail("\(path).sampling", "expected uniform, weighted or balanced, got \"\(name)\"")
            }
            sampling = parsed
        }
        var quota: Int?
        if let raw = value("quota"), raw != .null { quota = try count("quota", 0, range: 1...Int(Int32.max)) }
        let events = try strings(value("events"), "\(path).events", required: true)
        if events.contains("*"), events.count > 1 { throw fail("\(path).events", "\"*\" (any event) stands alone") }
        let minimum = try count("min_context_events", 10, range: 0...1_000_000)
        let maximum = try count("max_context_events", 100, range: 1...1_000_000)
        guard minimum + 1 < maximum else {
            throw fail("\(path).max_context_events", "must exceed min_context_events + 1 (bounds are exclusive)")
        }
        return TaskDefinition(
            name: try string("name"), events: events, targetKey: try string("target_key"),
            fallbackKey: value("fallback_key") == nil ? nil : try string("fallback_key"),
            instruction: try string("instruction"), metric: metric,
            hiddenEvents: try strings(value("hidden_events"), "\(path).hidden_events", required: false),
            contextHours: hours, sameAdmission: try flag("same_admission", true),
            includeAdmission: try flag("include_admission", true),
            includePreviousDischarge: try flag("include_previous_discharge", true),
            minContextEvents: minimum, maxContextEvents: maximum,
            admissionInWindow: try flag("admission_in_window", false), quota: quota, sampling: sampling)
    }
}
