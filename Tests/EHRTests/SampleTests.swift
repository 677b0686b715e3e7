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

    var tasks: [TaskDefinition] { (try? TaskSet.standard().tasks) ?? [] }

    @Test func contextFollowsTheWindowAdmissionAndHiddenRules() throws {
        let samples = SampleBuilder(tasks: tasks).samples(for: Self.patient)
        let byID = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
        // The second day's labs: events of h2 within 24 h (none), plus the
        // admission event and the first stay's discharge summary.
        let sodium = try #require(byID["p1:labevents:21000202T120000"])
        #expect(sodium.contextEvents == [1, 2])
        #expect(sodium.targets == ["Sodium"])
        // A second target at the same second gets its own id and does not
        // see the first (same second).
        let potassium = try #require(byID["p1:labevents:21000202T120000:1"])
        #expect(potassium.contextEvents == [1, 2])
        // First-day labs see the admission (within 24 h) and the old summary.
        #expect(byID["p1:labevents:21000201T090000"]?.contextEvents == [1, 2])
        // Diagnoses hide this stay's discharge summary (same second anyway)
        // but keep the earlier stay's; the 24 h window reaches day two's labs.
        #expect(byID["p1:diagnoses:21000203T100000"]?.contextEvents == [1, 2, 5, 6])
        // No target value, no sample; the first admission has no context.
        #expect(samples.allSatisfy { $0.targetEvent != 9 && $0.targetEvent != 0 })
        // The admissions task ignores the admission filter: the earlier
        // discharge summary is its context.
        #expect(byID["p1:admissions:21000201T080000"]?.contextEvents == [1])
        // omr has no admission: a plain 24 h window.
        #expect(byID["p1:omr:21000201T093000"]?.contextEvents == [1, 2, 3])
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
            #expect(try Sample(json: JSONValue.parse(sample.json.jsonText)) == sample)
        }
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
        let labs = try TaskSet.standard().tasks.filter { $0.name == "labevents" }
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
        ]
        for (text, field) in cases {
            try text.write(toFile: folder + "/t.json", atomically: true, encoding: .utf8)
            #expect(throws: InputError.self) { try TaskSet(contentsOf: folder + "/t.json") }
            do { _ = try TaskSet(contentsOf: folder + "/t.json") } catch let error as InputError { #expect(error.field == field, "\(text)") }
        }
        #expect(try TaskSet.standard().tasks.count == 12)
    }
}
