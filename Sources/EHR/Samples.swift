import TGSupport

/// Which side of the train/test split a patient's samples fall on.
public enum Split: String, Sendable { case train, test }

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

    /// Reads a sample line back (`samples.jsonl`).
    public init(json value: JSONValue) throws(TimelineProblem) {
        func field<T>(_ key: String, _ read: (JSONValue) -> T?) throws(TimelineProblem) -> T {
            guard let raw = value[key], let result = read(raw) else { throw TimelineProblem(field: key, message: "missing or malformed") }
            return result
        }
        func integer(_ raw: JSONValue) -> Int? { if case .integer(let n) = raw { return Int(n) } else { return nil } }
        id = try field("id") { $0.stringValue }
        patient = try field("patient") { $0.stringValue }
        task = try field("task") { $0.stringValue }
        split = try field("split") { $0.stringValue.flatMap(Split.init(rawValue:)) }
        targetEvent = try field("target_event", integer)
        targetTime = try field("target_time") { $0.stringValue.flatMap { Timestamp(parsing: $0) } }
        admission = value["admission"]?.stringValue
        contextEvents = try field("context_events") { raw in
            raw.arrayValue.flatMap { list in
                let numbers = list.compactMap(integer)
                return numbers.count == list.count ? numbers : nil
            }
        }
        targets = try field("targets") { raw in
            raw.arrayValue.flatMap { list in
                let texts = list.compactMap(\.stringValue)
                return texts.count == list.count ? texts : nil
            }
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

/// Turns timelines into samples, task by task.
///
/// For each event a task predicts (with at least one non-empty target
/// value), the context is every earlier event (strictly earlier in time, so
/// nothing recorded in the same second as the answer leaks) within the
/// task's window, of the same admission when the task asks for it, minus
/// hidden event types; plus the admission's own `admissions` event and the
/// latest discharge summary of an earlier admission when the task asks for
/// them. Samples without any context event are not made.
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

    public func samples(for patient: Patient) -> [Sample] {
        let split = split(of: patient.id)
        var samples: [Sample] = []
        for task in tasks {
            let predicted = Set(task.events)
            let hidden = Set(task.hiddenEvents)
            var lastTime: Timestamp?
            var sameSecond = 0
            for (index, event) in patient.events.enumerated() where predicted.contains(event.name) {
                var targets: [String] = []
                var seen = Set<String>()
                for record in event.records {
                    if let value = record[task.targetKey]?.description, !value.isEmpty, seen.insert(value).inserted {
                        targets.append(value)
                    }
                }
                guard !targets.isEmpty else { continue }
                let context = contextEvents(of: index, in: patient.events, task: task, hidden: hidden)
                guard !context.isEmpty else { continue }
                sameSecond = event.time == lastTime ? sameSecond + 1 : 0
                lastTime = event.time
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

    func contextEvents(of target: Int, in events: [Event], task: TaskDefinition, hidden: Set<String>) -> [Int] {
        let targetEvent = events[target]
        let earliest = targetEvent.time.adding(seconds: -Int64(task.contextHours * 3600))
        let admission = task.sameAdmission ? targetEvent.admission : nil
        var context: [Int] = []
        var index = target - 1
        while index >= 0 {
            let event = events[index]
            if event.time < earliest { break }
            if event.time < targetEvent.time, !hidden.contains(event.name),
               admission == nil || event.admission == admission {
                context.append(index)
            }
            index -= 1
        }
        if task.includeAdmission, let own = targetEvent.admission,
           let position = events[..<target].lastIndex(where: { $0.name == "admissions" && $0.admission == own }),
           events[position].time < targetEvent.time, !context.contains(position) {
            context.append(position)
        }
        if task.includePreviousDischarge,
           let position = events[..<target].lastIndex(where: {
               $0.name == "discharge" && $0.time < targetEvent.time && ($0.admission == nil || $0.admission != targetEvent.admission)
           }), !context.contains(position) {
            context.append(position)
        }
        return context.sorted()
    }
}

extension TimelineRenderer {
    /// A sample's context as a model sees it. Under a token budget the
    /// oldest events go first, but the admission event and the previous
    /// discharge summary (added to the context on purpose) stay.
    public func render(_ sample: Sample, of patient: Patient, maxTokens: Int? = nil) -> (text: String, dropped: Int) {
        let events = sample.contextEvents.filter { patient.events.indices.contains($0) }.map { patient.events[$0] }
        let keep = Set(events.indices.filter { events[$0].name == "admissions" || events[$0].name == "discharge" })
        return render(events, maxTokens: maxTokens, keep: keep)
    }
}
