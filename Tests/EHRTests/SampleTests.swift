import Foundation
import Testing
import TGSupport
@testable import EHR

@Suite struct SampleTests {
    static func event(_ name: String, _ time: String, _ admission: String?, _ items: [(String, String)] = [], text: String? = nil) -> Event {
        Event(name: name, time: Timestamp(parsing: time)!, admission: admission,
              records: items.isEmpty ? [] : [Record(items: items.map { Item($0.0, .string($0.1)) })], text: text)
    }

    /// Two admissions; the second has labs over two days and a discharge.
    static let patient = Patient(id: "p1", events: [
        event("admissions", "2100-01-01 08:00:00", "h1", [("admission_type", "URGENT")]),           // 0
        event("discharge", "2100-01-03 10:00:00", "h1", text: "first stay summary"),                  // 1
        event("admissions", "2100-02-01 08:00:00", "h2", [("admission_type", "ELECTIVE")]),           // 2
        event("labevents", "2100-02-01 09:00:00", "h2", [("item_name", "Glucose")]),                   // 3
        event("omr", "2100-02-01 09:30:00", nil, [("result_name", "BMI")]),                            // 4
        event("labevents", "2100-02-02 12:00:00", "h2", [("item_name", "Sodium")]),                    // 5
        event("labevents", "2100-02-02 12:00:00", "h2", [("item_name", "Potassium")]),                 // 6
        event("discharge", "2100-02-03 10:00:00", "h2", text: "second stay summary"),                 // 7
        event("diagnoses_icd", "2100-02-03 10:00:00", "h2", [("long_title", "Sepsis")]),               // 8
        event("diagnoses_icd", "2100-02-03 11:00:00", "h2", [("long_title", "")]),                     // 9
    ])

    /// The shipped tasks with the context-size bounds opened up (even an
    /// empty window), to test the window rules alone.
    var tasks: [TaskDefinition] {
        ((try? TaskSet.standard().tasks) ?? []).map { task in
            var task = task
            task.minContextEvents = -1
            return task
        }
    }

    @Test func contextFollowsTheWindowAdmissionAndHiddenRules() throws {
        var removed: SampleBuilder.Removals = [:]
        let samples = SampleBuilder(tasks: tasks).samples(for: Self.patient, removed: &removed)
        let byID = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
        // The second day's labs: events of h2 within 24 h (the first day's
        // omr has no admission), plus the admission event and the first
        // stay's discharge summary.
        let sodium = try #require(byID["p1:labevents:21000202T120000"])
        #expect(sodium.contextEvents == [1, 2])
        #expect(sodium.targets == ["Sodium"])
        // A second target at the same second gets its own id and does not
        // see the first (same second).
        let potassium = try #require(byID["p1:labevents:21000202T120000:1"])
        #expect(potassium.contextEvents == [1, 2])
        // The first day's labs: the window's admissions row is hidden, and
        // the stay's own admission event comes back on purpose.
        #expect(byID["p1:labevents:21000201T090000"]?.contextEvents == [1, 2])
        // Diagnoses need the admission inside the 24 h window: this stay
        // began two days before.
        #expect(byID["p1:diagnoses_icd:21000203T100000"] == nil)
        #expect(removed["diagnoses_icd"]?[.admissionInWindow] == 1)
        // No target value, no sample (counted).
        #expect(samples.allSatisfy { $0.targetEvent != 9 || $0.task == "next_event" })
        #expect(removed["diagnoses_icd"]?[.noTarget] == 1)
        // The admissions task sees no admissions rows: the earlier
        // discharge summary is its context.
        #expect(byID["p1:admissions:21000201T080000"]?.contextEvents == [1])
        // omr has no admission: a plain 24 h window (without the hidden
        // admissions row) and the earlier stay's summary.
        #expect(byID["p1:omr:21000201T093000"]?.contextEvents == [1, 3])
    }

    @Test func contextSizeBoundsAreExclusive() throws {
        var events = [Self.event("admissions", "2100-03-01 00:00:00", "h", [("admission_type", "URGENT")])]
        for minute in 1...120 {
            events.append(Self.event("labevents", String(format: "2100-03-01 %02d:%02d:00", minute / 60, minute % 60), "h",
                                     [("item_name", minute % 2 == 0 ? "Glucose" : "Sodium")]))
        }
        let patient = Patient(id: "p", events: events)
        let labs = try #require(try TaskSet.standard().task(named: "labevents"))
        var removed: SampleBuilder.Removals = [:]
        let samples = SampleBuilder(tasks: [labs]).samples(for: patient, removed: &removed)
        // The k-th lab has k - 1 labs before it (the admission row is
        // hidden): 10 < k - 1 < 100 keeps labs 12 ... 100.
        #expect(samples.count == 89)
        #expect(samples.map { $0.contextEvents.count }.min() == 12)  // 11 labs and the admission
        #expect(removed["labevents"]?[.minContextEvents] == 11)
        #expect(removed["labevents"]?[.maxContextEvents] == 20)
    }

    @Test func targetsAreStrippedDeduplicatedAndFallBack() throws {
        let standard = try TaskSet.standard()
        let transfers = try #require(standard.task(named: "transfers"))
        let event = Event(name: "transfers", time: Timestamp(parsing: "2100-01-01 10:00:00")!, admission: "h", records: [
            Record(items: [Item("eventtype", .string("transfer")), Item("careunit", .string(" Medicine "))]),
            Record(items: [Item("eventtype", .string("transfer")), Item("careunit", .string("Medicine"))]),
            Record(items: [Item("eventtype", .string("discharge")), Item("careunit", .string(""))]),
        ])
        #expect(SampleBuilder.targets(of: event, task: transfers) == ["Medicine", "discharge"])
        let radiology = try #require(standard.task(named: "radiology"))
        let report = Event(name: "radiology", time: event.time, records: [
            Record(items: [Item("exam_name", .string("CHEST (PA AND LAT)"))]), Record(items: [Item("exam_name", .string("CT HEAD"))]),
        ], text: "report")
        #expect(SampleBuilder.targets(of: report, task: radiology) == ["CHEST (PA AND LAT)", "CT HEAD"])
        let discharge = try #require(standard.task(named: "discharge"))
        #expect(SampleBuilder.targets(of: report, task: discharge) == ["report"])
        let next = try #require(standard.task(named: "next_event"))
        #expect(SampleBuilder.targets(of: report, task: next) == ["radiology"])
    }

    @Test func splitIsByPatientDeterministicAndNearTheFraction() {
        let builder = SampleBuilder(tasks: tasks, seed: 7, testFraction: 0.2)
        let ids = (0..<5000).map { "patient-\($0)" }
        let tests = ids.filter { builder.split(of: $0) == .test }.count
        #expect((800...1200).contains(tests))
        #expect(ids.map(builder.split) == ids.map(SampleBuilder(tasks: [], seed: 7, testFraction: 0.2).split))
        #expect(ids.map(builder.split) != ids.map(SampleBuilder(tasks: [], seed: 8, testFraction: 0.2).split))
        let samples = builder.samples(for: Self.patient)
        #expect(Set(samples.map(\.split)).count == 1)
    }

    @Test func samplesRoundTripThroughJSON() throws {
        for sample in SampleBuilder(tasks: tasks).samples(for: Self.patient) {
            #expect(try Sample(json: JSONValue.parse(sample.json.jsonText), file: "samples.jsonl", line: 1) == sample)
        }
    }

    /// A sample line with a field missing, mistyped or contradicting the
    /// rest is named with its file, line and field.
    @Test func aDamagedSampleLineIsNamed() throws {
        let sample = try #require(SampleBuilder(tasks: tasks).samples(for: Self.patient).first)
        func error(_ key: String, _ value: JSONValue?) -> InputError? {
            guard case .object(var members) = sample.json else { return nil }
            let index = members.firstIndex { $0.0 == key }!
            if let value { members[index].1 = value } else { members.remove(at: index) }
            return #expect(throws: InputError.self) { try Sample(json: .object(members), file: "samples.jsonl", line: 5) }
        }
        for key in ["id", "patient", "task", "split", "target_event", "target_time", "context_events", "targets"] {
            let problem = error(key, nil)
            #expect(problem?.field == key && problem?.line == 5 && problem?.file == "samples.jsonl" && problem?.message == "missing", "\(key)")
        }
        #expect(error("split", .string("validation"))?.message == "unknown value \"validation\"")
        #expect(error("target_time", .string("yesterday"))?.field == "target_time")
        #expect(error("context_events", .array([.integer(0), .string("1")]))?.field == "context_events[1]")
        #expect(error("context_events", .array([.integer(Int64(sample.targetEvent))]))?.field == "context_events")
        #expect(error("admission", .integer(7))?.field == "admission")
    }

    @Test func capsShareOutOverLabelsByWaterFilling() {
        typealias Key = SampleIndex.GroupKey
        let sizes: [Key: Int] = [
            Key(task: "t", split: .train, label: "rare"): 2, Key(task: "t", split: .train, label: "common"): 100,
            Key(task: "t", split: .train, label: "mid"): 10, Key(task: "t", split: .test, label: "common"): 5,
            Key(task: "u", split: .train, label: "x"): 50,
        ]
        let quotas = SampleIndex.quotas(sizes: sizes, caps: ["t": 21])
        #expect(quotas[Key(task: "t", split: .train, label: "rare")] == 2)
        // 19 left for two labels: 10 and 9 (the odd one to the first name).
        #expect(quotas[Key(task: "t", split: .train, label: "common")] == 10)
        #expect(quotas[Key(task: "t", split: .train, label: "mid")] == 9)
        #expect(quotas[Key(task: "t", split: .test, label: "common")] == 5)
        #expect(quotas[Key(task: "u", split: .train, label: "x")] == nil)
        let even = SampleIndex.quotas(sizes: [Key(task: "t", split: .train, label: "a"): 9, Key(task: "t", split: .train, label: "b"): 9,
                                              Key(task: "t", split: .train, label: "c"): 9], caps: ["t": 8])
        #expect(even.values.sorted() == [2, 3, 3] && even.values.reduce(0, +) == 8)
    }

    @Test func cappedIndexIsBalancedAndDeterministic() throws {
        let folder = NSTemporaryDirectory() + "tg-samples-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let timelines = try JSONLinesWriter(path: folder + "/patients.jsonl")
        var generator = SystemRandomNumberGenerator()
        for patient in 0..<60 {
            var events = [Self.event("admissions", "2100-01-01 00:00:00", "h\(patient)", [("admission_type", "URGENT")])]
            for hour in 1..<20 {
                // Glucose is ten times as common as Lactate.
                let item = hour % 10 == 0 ? "Lactate" : "Glucose"
                events.append(Self.event("labevents", "2100-01-01 \(hour < 10 ? "0" : "")\(hour):00:00", "h\(patient)", [("item_name", item)]))
            }
            _ = generator.next()
            try timelines.write(Patient(id: "p\(patient)", events: events))
        }
        try timelines.commit()
        let labs = try TaskSet.standard().tasks.filter { $0.name == "labevents" }.map { task in
            var task = task
            task.minContextEvents = 0
            task.sampling = .balanced
            return task
        }
        func run() throws -> [String] {
            let output = try JSONLinesWriter(path: folder + "/samples.jsonl")
            _ = try SampleIndex(builder: SampleBuilder(tasks: labs, seed: 3, testFraction: 0), caps: ["labevents": 100])
                .write(patients: folder + "/patients.jsonl", to: output)
            try output.commit()
            return try String(contentsOfFile: folder + "/samples.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let first = try run()
        #expect(first.count == 100)
        #expect(first.filter { $0.contains(#""targets":["Lactate"]"#) }.count == 50)
        #expect(try run() == first)
    }

    @Test func taskFilesAreCheckedField() throws {
        let folder = NSTemporaryDirectory() + "tg-tasks-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cases: [(String, String)] = [
            (#"{"tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "f1"}]}"#, "tasks[0].metric"),
            (#"{"tasks": [{"name": "a", "events": [], "target_key": "k", "instruction": "i", "metric": "recall"}]}"#, "tasks[0].events"),
            (#"{"tasks": [{"name": "a", "events": ["x"], "instruction": "i", "metric": "recall"}]}"#, "tasks[0].target_key"),
            (#"{"tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall", "window": 3}]}"#, "tasks[0].window"),
            (#"{"defaults": {"context_hours": -1}, "tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall"}]}"#, "tasks[0].context_hours"),
            (#"{"tasks": []}"#, "tasks"),
            (#"{"tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall", "context_hours": 1e16}]}"#, "tasks[0].context_hours"),
            (#"{"tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall", "quota": 0}]}"#, "tasks[0].quota"),
            (#"{"tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall", "sampling": "random"}]}"#, "tasks[0].sampling"),
            (#"{"tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall", "min_context_events": 5, "max_context_events": 6}]}"#, "tasks[0].max_context_events"),
            (#"{"event_types": {"admissions": {"keys": ["admission_type", "dischtime"], "later_keys": ["dischtime"]}}, "tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall"}]}"#, "event_types.admissions.keys"),
            (#"{"event_types": {"admissions": {"columns": ["admission_type"]}}, "tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall"}]}"#, "event_types.admissions.columns"),
            (#"{"event_types": {"labevents": {"keys": ["item_name"], "labels": {"value": "Value"}}}, "tasks": [{"name": "a", "events": ["x"], "target_key": "k", "instruction": "i", "metric": "recall"}]}"#, "event_types.labevents.labels.value"),
        ]
        for (text, field) in cases {
            try text.write(toFile: folder + "/t.json", atomically: true, encoding: .utf8)
            #expect(throws: InputError.self) { try TaskSet(contentsOf: folder + "/t.json") }
            do { _ = try TaskSet(contentsOf: folder + "/t.json") } catch let error as InputError { #expect(error.field == field, "\(text)") }
        }
        #expect(try TaskSet.standard().tasks.count == 28)
    }
}

@Suite struct QuotaDrawTests {
    /// Patients with `n` lab samples each; Lactate a tenth of them.
    static func timelines(_ folder: String, patients: Int, order: [Int]) throws {
        let timelines = try JSONLinesWriter(path: folder + "/patients.jsonl")
        for patient in order.prefix(patients) {
            var events = [SampleTests.event("admissions", "2100-01-01 00:00:00", "h\(patient)", [("admission_type", "URGENT")])]
            for minute in 1..<40 {
                let item = minute % 10 == 0 ? "Lactate" : "Glucose"
                events.append(SampleTests.event("labevents", String(format: "2100-01-01 00:%02d:00", minute), "h\(patient)",
                                                [("item_name", item)]))
            }
            try timelines.write(Patient(id: "p\(patient)", events: events))
        }
        try timelines.commit()
    }

    func draw(_ folder: String, sampling: TaskDefinition.Sampling) throws -> (lines: Set<String>, counts: SampleIndex.Counts) {
        var labs = try #require(try TaskSet.standard().task(named: "labevents"))
        labs.minContextEvents = 0
        labs.sampling = sampling
        labs.quota = 200
        let output = try JSONLinesWriter(path: folder + "/samples.jsonl")
        let counts = try SampleIndex(builder: SampleBuilder(tasks: [labs], seed: 5, testFraction: 0))
            .write(patients: folder + "/patients.jsonl", to: output)
        try output.commit()
        let text = try String(contentsOfFile: folder + "/samples.jsonl", encoding: .utf8)
        return (Set(text.split(separator: "\n").map(String.init)), counts)
    }

    @Test func drawsHonourQuotasWeightsAndIgnoreFileOrder() throws {
        let folder = NSTemporaryDirectory() + "tg-draws-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.timelines(folder, patients: 30, order: Array(0..<30))
        let uniform = try draw(folder, sampling: .uniform)
        #expect(uniform.lines.count == 200)
        #expect(uniform.counts.removed["labevents"]?[.quota] == 30 * 38 - 200)
        let weighted = try draw(folder, sampling: .weighted)
        #expect(weighted.lines.count == 200)
        // Lactate is a twelfth of the candidates (90); weighted by inverse
        // target frequency, most of them are drawn.
        let lactate = { (lines: Set<String>) in lines.filter { $0.contains(#""targets":["Lactate"]"#) }.count }
        #expect(lactate(uniform.lines) < 45)
        #expect(lactate(weighted.lines) > 55)
        // The same draw whatever the order of the timeline file.
        try Self.timelines(folder, patients: 30, order: Array((0..<30).reversed()))
        #expect(try draw(folder, sampling: .uniform).lines == uniform.lines)
        #expect(try draw(folder, sampling: .weighted).lines == weighted.lines)
    }
}
