import TGSupport

/// Which side of the train/test split a patient's samples fall on.
public enum Split: String, Sendable, CaseIterable { case train, test }

/// Which samples a later stage takes: one side of the split, or both.
public enum SplitSelection: String, Sendable, CaseIterable {
    case train, test, all

    public func admits(_ split: Split) -> Bool { self == .all || rawValue == split.rawValue }
}

/// One prediction problem: a patient, a task, the target event and the
/// events shown as its context (indices into the patient's timeline), and
/// the items to predict.
public struct Sample: Equatable, Sendable {
    /// Stable: `patient:task:YYYYMMDDTHHMMSS`, with `:k` for the k-th
    /// (from 1) further target event of the task at the same second.
    public var id: String
    public var patient: String
    public var task: String
    public var split: Split
    public var targetEvent: Int
    public var targetTime: Timestamp
    public var admission: String?
    /// Ascending event indices, all before `targetEvent`.
    public var contextEvents: [Int]
    public var targets: [String]

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(id)), ("patient", .string(patient)), ("task", .string(task)), ("split", .string(split.rawValue)),
            ("target_event", .integer(Int64(targetEvent))), ("target_time", .string(targetTime.description)),
        ]
        if let admission { members.append(("admission", .string(admission))) }
        members.append(("context_start", .integer(Int64(contextEvents.first ?? targetEvent))))
        members.append(("context_end", .integer(Int64(targetEvent))))
        members.append(("context_events", .array(contextEvents.map { .integer(Int64($0)) })))
        members.append(("targets", .array(targets.map { .string($0) })))
        return .object(members)
    }

    /// Reads a sample line back (`samples.jsonl`, `RecordFormat.samples`):
    /// a missing or mistyped field is an error naming the file, the line
    /// and the field.
    public init(json value: JSONValue, file: String, line: Int?) throws {
        let fields = try RecordFields(value, file: file, line: line)
        id = try fields.string("id")
        patient = try fields.string("patient")
        task = try fields.string("task")
        split = try fields.value("split", as: Split.self)
        targetEvent = try fields.int("target_event")
        let time = try fields.string("target_time")
        guard let parsed = Timestamp(parsing: time) else { throw fields.error("target_time", "not a time: \"\(time)\"") }
        targetTime = parsed
        admission = try fields.optionalString("admission")
        contextEvents = try fields.integers("context_events")
        targets = try fields.strings("targets")
        guard contextEvents.allSatisfy({ $0 < targetEvent }) else {
            throw fields.error("context_events", "an event at or after the target event \(targetEvent)")
        }
    }

    public init(id: String, patient: String, task: String, split: Split, targetEvent: Int, targetTime: Timestamp,
                admission: String?, contextEvents: [Int], targets: [String]) {
        self.id = id
        self.patient = patient
        self.task = task
        self.split = split
        self.targetEvent = targetEvent
        self.targetTime = targetTime
        self.admission = admission
        self.contextEvents = contextEvents
        self.targets = targets
    }
}

extension Sample {
    /// Every sample's id and split in a sample index, in file order; a line
    /// without them is an error naming it.
    public static func splits(in path: String) throws -> [(id: String, split: Split)] {
        var result: [(id: String, split: Split)] = []
        let reader = try LineReader(path: path)
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            let fields = try RecordFields(JSONValue.parse(line), file: path, line: reader.lineNumber)
            result.append((try fields.string("id"), try fields.value("split", as: Split.self)))
        }
        return result
    }
}

/// The sample rules, in the order they are applied; each candidate removed
/// is counted under the first rule it fails.
public enum SampleRule: String, Sendable, CaseIterable {
    /// The target event has no target value.
    case noTarget = "no_target"
    /// The admission's `admissions` event is older than the window.
    case admissionInWindow = "admission_in_window"
    /// Too few context events (at most `min_context_events`).
    case minContextEvents = "min_context_events"
    /// Too many context events (at least `max_context_events`).
    case maxContextEvents = "max_context_events"
    /// Not drawn within the task's quota.
    case quota
}

/// Turns timelines into samples, task by task.
///
/// For each event a task predicts (with at least one non-empty target
/// value), the window is every earlier event (strictly earlier in time, so
/// nothing recorded in the same second as the answer leaks) within the
/// task's hours, of the same admission when the task asks for it, minus
/// hidden event types. The sample rules then decide (`SampleRule`); the
/// context is the window plus the admission's own `admissions` event and
/// the latest discharge summary of an earlier admission when the task asks
/// for them.
public struct SampleBuilder: Sendable {
    public var tasks: [TaskDefinition]
    public var seed: UInt64
    /// Share of patients whose samples are test samples.
    public var testFraction: Double

    public init(tasks: [TaskDefinition], seed: UInt64 = 42, testFraction: Double = 0.1) {
        self.tasks = tasks
        self.seed = seed
        self.testFraction = testFraction
    }

    /// The split of a patient: a seeded stable hash of the id, so a patient
    /// never moves when others are added, and every sample of a patient is
    /// on one side (no patient leaks from train to test).
    public func split(of patient: String) -> Split {
        let fraction = Double(StableHash.of("\(seed)\u{0}\(patient)") >> 11) / Double(1 << 53)
        return fraction < testFraction ? .test : .train
    }

    /// Candidates removed, by task and rule.
    public typealias Removals = [String: [SampleRule: Int]]

    public func samples(for patient: Patient) -> [Sample] {
        var removed: Removals = [:]
        return samples(for: patient, removed: &removed)
    }

    public func samples(for patient: Patient, removed: inout Removals) -> [Sample] {
        let split = split(of: patient.id)
        let landmarks = Landmarks(patient.events)
        var samples: [Sample] = []
        for task in tasks {
            let anyEvent = task.events == ["*"]
            let predicted = landmarks.nameMask(task.events)
            let hidden = landmarks.nameMask(task.hiddenEvents)
            var lastTime: Timestamp?
            var sameSecond = 0
            for (index, event) in patient.events.enumerated() where anyEvent || predicted[landmarks.names[index]] {
                // Ids count every target event of the second, kept or not,
                // so an id never depends on the rules' settings.
                sameSecond = event.time == lastTime ? sameSecond + 1 : 0
                lastTime = event.time
                let targets = Self.targets(of: event, task: task)
                guard !targets.isEmpty else {
                    removed[task.name, default: [:]][.noTarget, default: 0] += 1
                    continue
                }
                let context: [Int]
                switch contextEvents(of: index, in: patient.events, task: task, hidden: hidden, landmarks: landmarks) {
                case .success(let events): context = events
                case .failure(let rule):
                    removed[task.name, default: [:]][rule, default: 0] += 1
                    continue
                }
                let c = event.time.components
                func pad(_ value: Int, _ width: Int) -> String {
                    let text = String(value)
                    return String(repeating: "0", count: max(0, width - text.count)) + text
                }
                let stamp = "\(pad(c.year, 4))\(pad(c.month, 2))\(pad(c.day, 2))T\(pad(c.hour, 2))\(pad(c.minute, 2))\(pad(c.second, 2))"
                let id = "\(patient.id):\(task.name):\(stamp)" + (sameSecond > 0 ? ":\(sameSecond)" : "")
                samples.append(Sample(id: id, patient: patient.id, task: task.name, split: split, targetEvent: index,
                                      targetTime: event.time, admission: event.admission, contextEvents: context,
                                      targets: targets))
            }
        }
        return samples
    }

    /// The items a task predicts from an event: the target key's values of
    /// every record (the fallback key's where it is empty), stripped,
    /// without repeats, in record order; the event's text for `text`; the
    /// event's name for `event`.
    public static func targets(of event: Event, task: TaskDefinition) -> [String] {
        func stripped(_ value: String?) -> String? {
            guard let value else { return nil }
            let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        switch task.targetKey {
        case "text": return stripped(event.text).map { [$0] } ?? []
        case "event": return [event.name]
        default:
            var targets: [String] = []
            var seen = Set<String>()
            for record in event.records {
                let value = stripped(record[task.targetKey]?.description) ?? stripped(task.fallbackKey.flatMap { record[$0]?.description })
                if let value, seen.insert(value).inserted { targets.append(value) }
            }
            return targets
        }
    }

    /// Where a patient's admissions and discharge summaries are, found
    /// once per patient (looking them up per candidate was quadratic).
    /// Event names and admissions are numbered too: the window scan
    /// compares numbers instead of hashing strings.
    struct Landmarks {
        /// Admission id → indices of its `admissions` events, ascending.
        var admissions: [String: [Int]] = [:]
        /// Indices of `discharge` events, ascending.
        var discharges: [Int] = []
        /// Each event's name as a number, and the names by number.
        var names: [Int] = []
        var nameNumbers: [String: Int] = [:]
        /// Each event's admission as a number (-1: none).
        var stays: [Int] = []

        init(_ events: [Event]) {
            var stayNumbers: [String: Int] = [:]
            names.reserveCapacity(events.count)
            stays.reserveCapacity(events.count)
            for (index, event) in events.enumerated() {
                if event.name == "admissions", let id = event.admission { admissions[id, default: []].append(index) }
                if event.name == "discharge" { discharges.append(index) }
                let name = nameNumbers[event.name] ?? nameNumbers.count
                nameNumbers[event.name] = name
                names.append(name)
                if let id = event.admission {
                    let stay = stayNumbers[id] ?? stayNumbers.count
                    stayNumbers[id] = stay
                    stays.append(stay)
                } else {
                    stays.append(-1)
                }
            }
        }

        /// By name number: whether the name is one of `list`.
        func nameMask(_ list: [String]) -> [Bool] {
            var mask = Array(repeating: false, count: nameNumbers.count)
            for name in list { if let number = nameNumbers[name] { mask[number] = true } }
            return mask
        }
    }

    func contextEvents(of target: Int, in events: [Event], task: TaskDefinition, hidden: [Bool],
                       landmarks: Landmarks) -> Result<[Int], SampleRule> {
        let targetEvent = events[target]
        let earliest = targetEvent.time.adding(seconds: -Int64(task.contextHours * 3600))
        let ownAdmission = targetEvent.admission.flatMap { own in
            landmarks.admissions[own]?.last { $0 < target && events[$0].time < targetEvent.time }
        }
        if task.admissionInWindow, let ownAdmission, events[ownAdmission].time < earliest { return .failure(.admissionInWindow) }
        let stay = task.sameAdmission ? landmarks.stays[target] : -1
        var context: [Int] = []
        var index = target - 1
        while index >= 0 {
            let event = events[index]
            if event.time < earliest { break }
            if event.time < targetEvent.time, !hidden[landmarks.names[index]], stay < 0 || landmarks.stays[index] == stay {
                context.append(index)
                // Past the upper bound the sample is out: no need to look further.
                if context.count >= task.maxContextEvents { return .failure(.maxContextEvents) }
            }
            index -= 1
        }
        if context.count <= task.minContextEvents { return .failure(.minContextEvents) }
        if task.includeAdmission, let ownAdmission, !context.contains(ownAdmission) {
            context.append(ownAdmission)
        }
        if task.includePreviousDischarge,
           let position = landmarks.discharges.last(where: {
               $0 < target && events[$0].time < targetEvent.time
                   && (events[$0].admission == nil || events[$0].admission != targetEvent.admission)
           }), !context.contains(position) {
            context.append(position)
        }
        return .success(context.sorted())
    }
}

extension SampleRule: Error {}
