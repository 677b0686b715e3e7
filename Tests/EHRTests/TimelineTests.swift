import Foundation
import Testing
import TGSupport
@testable import EHR

@Suite struct TimelineTests {
    static let sample = Patient(id: "p1", statics: [Item("gender", .string("F")), Item("anchor_age", .integer(52))], events: [
        Event(name: "admissions", time: Timestamp(parsing: "2180-05-06 22:23:00")!, admission: "h1",
              records: [Record(items: [Item("admission_type", .string("URGENT"))], source: "admissions.csv:2")]),
        Event(name: "labevents", time: Timestamp(parsing: "2180-05-07 06:00:00")!, admission: "h1", records: [
            Record(items: [Item("item_name", .string("Glucose")), Item("valuenum", .number(95.5)),
                           Item("flag", .boolean(false))], source: "labevents.csv:10"),
            Record(items: [Item("item_name", .string("Sodium | Na")), Item("value", .string("<130"))]),
        ]),
        Event(name: "discharge", time: Timestamp(parsing: "2180-05-08 12:00:00")!, admission: "h1",
              text: "Discharge summary\nline two", source: "discharge.csv:3"),
    ])

    @Test func roundTripsThroughTheJSONLFormat() throws {
        var problems: [TimelineProblem] = []
        let decoded = Patient.decode(try JSONValue.parse(Self.sample.jsonLine), problems: &problems)
        #expect(problems.isEmpty)
        #expect(decoded == Self.sample)
    }

    @Test func namesEveryProblemByField() throws {
        let line = #"""
            {"patient": "", "extra": 1, "events": [
              {"name": "labevents", "time": "2180-02-30 10:00:00", "records": [{"items": {"a": [1]}}]},
              {"time": "2180-01-01", "records": [{"items": {"k": "v"}, "oops": 1}]},
              {"name": "x", "time": "2180-01-01 00:00:00"}
            ]}
            """#
        var problems: [TimelineProblem] = []
        #expect(Patient.decode(try JSONValue.parse(line), problems: &problems) == nil)
        let fields = Set(problems.map(\.field))
        #expect(fields == ["patient", "extra", "events[0].time", "events[0].records[0].items.a", "events[1].name",
                           "events[1].records[0].oops", "events[2].records"])
    }

    @Test func requiresTimeOrderUnlessTold() throws {
        var patient = Self.sample
        patient.events.reverse()
        var problems: [TimelineProblem] = []
        #expect(Patient.decode(try JSONValue.parse(patient.jsonLine), problems: &problems) == nil)
        #expect(problems.map(\.field) == ["events[1].time"])
        problems = []
        var sorted = Patient.decode(try JSONValue.parse(patient.jsonLine), requireTimeOrder: false, problems: &problems)
        sorted?.sortEvents()
        #expect(sorted == Self.sample)
    }

    @Test func validateReportsLinesAndDuplicateIDs() throws {
        let folder = NSTemporaryDirectory() + "tg-timeline-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/patients.jsonl"
        let lines = [Self.sample.jsonLine, "", "{not json", Self.sample.jsonLine, #"{"patient": "p2", "events": []}"#]
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TimelineReader(path: path).validate()
        #expect(result.patients == 3)
        #expect(result.problems.map(\.line) == [3, 4])
        #expect(result.problems[1].message.contains("duplicate id \"p1\" (first on line 1)"))
        #expect(result.problems[0].description.hasPrefix(path + ":3: invalid JSON"))
    }

    @Test func writerLeavesNothingWithoutCommit() throws {
        let folder = NSTemporaryDirectory() + "tg-writer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let writer = try JSONLinesWriter(path: folder + "/out.jsonl")
            try writer.write(Self.sample)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        let writer = try JSONLinesWriter(path: folder + "/out.jsonl")
        try writer.write(Self.sample)
        try writer.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.jsonl"])
        #expect(try TimelineReader(path: folder + "/out.jsonl").next() == Self.sample)
    }

    @Test func patientIDsNeverEscapeTheirFolder() {
        for id in ["../../x", "a/b", ".", "..", ".hidden", "", "/etc/passwd", "a\0b", "日本", "%41", "x..y", "C:\\x"] {
            let name = SafeFileName.encode(id)
            #expect(!name.contains("/") && !name.hasPrefix(".") && !name.isEmpty && !name.contains("\\"), "\(id) -> \(name)")
            #expect(SafeFileName.decode(name) == id, "\(id)")
        }
        #expect(SafeFileName.encode("10000032") == "10000032")
        #expect(SafeFileName.encode("pt-03b7.a") == "pt-03b7.a")
        #expect(SafeFileName.encode("%41") != SafeFileName.encode("A"))
    }
}
