import TGSupport

/// A value of a record field: the types MIMIC's columns and FHIR's elements
/// carry. Text stays text ("<0.5", "___"); numbers keep whether they were
/// integers.
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case number(Double)
    case boolean(Bool)

    /// The value as a model reads it: integers without a decimal point,
    /// other numbers in their shortest form.
    public var description: String {
        switch self {
        case .string(let text): return text
        case .integer(let value): return String(value)
        case .number(let value):
            if value == value.rounded(), value.magnitude < 1e15 { return String(Int64(value)) }
            return "\(value)"
        case .boolean(let value): return value ? "true" : "false"
        }
    }

    var json: JSONValue {
        switch self {
        case .string(let text): return .string(text)
        case .integer(let value): return .integer(value)
        case .number(let value): return .number(value)
        case .boolean(let value): return .bool(value)
        }
    }
}

/// One key/value of a record or of a patient's static facts.
public struct Item: Hashable, Sendable {
    public var key: String
    public var value: FieldValue
    public init(_ key: String, _ value: FieldValue) {
        self.key = key
        self.value = value
    }
}

/// One row of an event: ordered key/values and where they came from
/// (`file:line` of a CSV row, `ResourceType/id` of a FHIR resource).
public struct Record: Hashable, Sendable {
    public var items: [Item]
    public var source: String?

    public init(items: [Item], source: String? = nil) {
        self.items = items
        self.source = source
    }

    public subscript(key: String) -> FieldValue? { items.first { $0.key == key }?.value }
}

/// Something that happened to a patient at one time: a source table's rows
/// at that time (`labevents` holds one record per lab result), optional free
/// text (a note, a report), the admission it belongs to.
public struct Event: Hashable, Sendable {
    public var name: String
    public var time: Timestamp
    public var admission: String?
    public var records: [Record]
    public var text: String?
    public var source: String?

    public init(name: String, time: Timestamp, admission: String? = nil, records: [Record] = [], text: String? = nil,
                source: String? = nil) {
        self.name = name
        self.time = time
        self.admission = admission
        self.records = records
        self.text = text
        self.source = source
    }
}

/// A patient: static facts and events in time order.
public struct Patient: Hashable, Sendable {
    public var id: String
    public var statics: [Item]
    public var events: [Event]

    public init(id: String, statics: [Item] = [], events: [Event] = []) {
        self.id = id
        self.statics = statics
        self.events = events
    }

    /// Orders events by time. At the same second an admission comes first,
    /// then its transfers and services, then everything else, and a
    /// discharge summary last; other ties keep their order (stable).
    public mutating func sortEvents() {
        func rank(_ name: String) -> Int {
            switch name {
            case "admissions": return 0
            case "transfers": return 1
            case "services": return 2
            case "discharge": return 4
            default: return 3
            }
        }
        let indexed = events.enumerated().sorted { a, b in
            if a.element.time != b.element.time { return a.element.time < b.element.time }
            let (rankA, rankB) = (rank(a.element.name), rank(b.element.name))
            return rankA != rankB ? rankA < rankB : a.offset < b.offset
        }
        events = indexed.map(\.element)
    }
}

// MARK: - The JSONL timeline format

extension Patient {
    /// The patient as one line of the timeline format (see
    /// docs/TIMELINES.md).
    public var jsonLine: String { json.jsonText }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("patient", .string(id))]
        if !statics.isEmpty { members.append(("static", .object(statics.map { ($0.key, $0.value.json) }))) }
        members.append(("events", .array(events.map(\.json))))
        return .object(members)
    }
}

extension Event {
    var json: JSONValue {
        var members: [(String, JSONValue)] = [("name", .string(name)), ("time", .string(time.description))]
        if let admission { members.append(("admission", .string(admission))) }
        if let source { members.append(("source", .string(source))) }
        members.append(("records", .array(records.map { record in
            var fields: [(String, JSONValue)] = []
            if let source = record.source { fields.append(("source", .string(source))) }
            fields.append(("items", .object(record.items.map { ($0.key, $0.value.json) })))
            return .object(fields)
        })))
        if let text { members.append(("text", .string(text))) }
        return .object(members)
    }
}

/// A problem in a timeline line, located by field path
/// (`events[3].records[0].items.valuenum`).
public struct TimelineProblem: Error, Equatable, Sendable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

extension Patient {
    /// The patient `id` that sample `sampleID` names, from its timeline
    /// record in `file` (nil when the file has none), or an error naming
    /// the file, the field and the first problem.
    public static func decoded(_ record: JSONValue?, id: String, sampleID: String, file: String) throws -> Patient {
        guard let record else {
            throw InputError(file: file, field: "patient", message: "no patient \"\(id)\" (sample \(sampleID))")
        }
        var problems: [TimelineProblem] = []
        guard let patient = decode(record, problems: &problems) else {
            throw InputError(file: file, field: problems.first?.field, message: "patient \(id): \(problems.first?.message ?? "invalid")")
        }
        return patient
    }

    /// Reads one patient from the timeline format, collecting every problem
    /// instead of stopping at the first; nil when any was found.
    public static func decode(_ value: JSONValue, requireTimeOrder: Bool = true, problems: inout [TimelineProblem]) -> Patient? {
        let before = problems.count
        func problem(_ field: String, _ message: String) { problems.append(TimelineProblem(field: field, message: message)) }
        guard let members = value.objectValue else {
            problem("", "expected an object, found \(value.kindName)")
            return nil
        }
        for (key, _) in members where key != "patient" && key != "static" && key != "events" { problem(key, "unknown field") }
        var patient = Patient(id: "")
        switch value["patient"] {
        case .string(let id) where !id.isEmpty: patient.id = id
        case .integer(let id): patient.id = String(id)
        case nil: problem("patient", "missing")
        case let other?: problem("patient", "expected a non-empty string, found \(other.kindName)")
        }
        if let statics = value["static"] {
            patient.statics = decodeItems(statics, field: "static", problems: &problems)
        }
        switch value["events"] {
        case .array(let events):
            for (index, event) in events.enumerated() {
                if let event = Event.decode(event, field: "events[\(index)]", problems: &problems) {
                    patient.events.append(event)
                }
            }
            for index in patient.events.indices.dropFirst()
            where requireTimeOrder && patient.events[index].time < patient.events[index - 1].time {
                problem("events[\(index)].time", "out of time order (\(patient.events[index].time) after \(patient.events[index - 1].time))")
                break
            }
        case nil: problem("events", "missing")
        case let other?: problem("events", "expected an array, found \(other.kindName)")
        }
        return problems.count == before ? patient : nil
    }

    /// Field paths are built only for a problem (`field` is evaluated lazily):
    /// building them for every record was most of the decoding time.
    static func decodeItems(_ value: JSONValue, field: @autoclosure () -> String, problems: inout [TimelineProblem]) -> [Item] {
        guard let members = value.objectValue else {
            problems.append(TimelineProblem(field: field(), message: "expected an object, found \(value.kindName)"))
            return []
        }
        var items: [Item] = []
        items.reserveCapacity(members.count)
        // Records hold a handful of items: scanning the keys before is
        // cheaper than hashing them, up to a few dozen.
        var seen = members.count > 32 ? Set<String>() : nil
        for (position, (key, value)) in members.enumerated() {
            guard !key.isEmpty else {
                problems.append(TimelineProblem(field: field(), message: "empty key"))
                continue
            }
            let duplicate = seen != nil ? !seen!.insert(key).inserted : members[..<position].contains { $0.0 == key }
            guard !duplicate else {
                problems.append(TimelineProblem(field: "\(field()).\(key)", message: "duplicate key"))
                continue
            }
            switch value {
            case .string(let text): items.append(Item(key, .string(text)))
            case .integer(let number): items.append(Item(key, .integer(number)))
            case .number(let number): items.append(Item(key, .number(number)))
            case .bool(let flag): items.append(Item(key, .boolean(flag)))
            case .null: continue
            default:
                problems.append(TimelineProblem(field: "\(field()).\(key)",
                                                message: "expected a string, number or boolean, found \(value.kindName)"))
            }
        }
        return items
    }
}

extension Event {
    static let knownFields: Set<String> = ["name", "time", "admission", "source", "records", "text"]

    /// `field` (the event's path, for problems) is evaluated only when
    /// there is a problem.
    static func decode(_ value: JSONValue, field: @autoclosure () -> String, problems: inout [TimelineProblem]) -> Event? {
        let before = problems.count
        func problem(_ name: String, _ message: String) {
            problems.append(TimelineProblem(field: "\(field()).\(name)", message: message))
        }
        guard let members = value.objectValue else {
            problems.append(TimelineProblem(field: field(), message: "expected an object, found \(value.kindName)"))
            return nil
        }
        for (key, _) in members where !knownFields.contains(key) { problem(key, "unknown field") }
        var event = Event(name: "", time: Timestamp(secondsSinceEpoch: 0))
        switch value["name"] {
        case .string(let name) where !name.isEmpty: event.name = name
        case nil: problem("name", "missing")
        case let other?: problem("name", "expected a non-empty string, found \(other.kindName)")
        }
        switch value["time"] {
        case .string(let text):
            if let time = Timestamp(parsing: text) { event.time = time } else {
                problem("time", "not a valid time (YYYY-MM-DD HH:MM:SS): \"\(text)\"")
            }
        case nil: problem("time", "missing")
        case let other?: problem("time", "expected a string, found \(other.kindName)")
        }
        switch value["admission"] {
        case .string(let id): event.admission = id
        case .integer(let id): event.admission = String(id)
        case nil, .null?: break
        case let other?: problem("admission", "expected a string, found \(other.kindName)")
        }
        switch value["source"] {
        case .string(let source): event.source = source
        case nil, .null?: break
        case let other?: problem("source", "expected a string, found \(other.kindName)")
        }
        switch value["text"] {
        case .string(let text): event.text = text
        case nil, .null?: break
        case let other?: problem("text", "expected a string, found \(other.kindName)")
        }
        switch value["records"] {
        case .array(let records):
            for (index, record) in records.enumerated() {
                func path() -> String { "\(field()).records[\(index)]" }
                guard record.objectValue != nil else {
                    problems.append(TimelineProblem(field: path(), message: "expected an object, found \(record.kindName)"))
                    continue
                }
                for (key, _) in record.objectValue! where key != "items" && key != "source" {
                    problems.append(TimelineProblem(field: "\(path()).\(key)", message: "unknown field"))
                }
                var decoded = Record(items: [])
                if case .string(let source) = record["source"] { decoded.source = source }
                if let items = record["items"] {
                    decoded.items = Patient.decodeItems(items, field: "\(path()).items", problems: &problems)
                } else {
                    problems.append(TimelineProblem(field: "\(path()).items", message: "missing"))
                }
                event.records.append(decoded)
            }
        case nil, .null?: break
        case let other?: problem("records", "expected an array, found \(other.kindName)")
        }
        if event.records.isEmpty, event.text == nil, problems.count == before {
            problem("records", "an event needs records or text")
        }
        return problems.count == before ? event : nil
    }
}
