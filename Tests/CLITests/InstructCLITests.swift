import Foundation
import Testing
import TestSupport

/// `instruct templates` on a run: every answer recomputed here, from
/// patients.jsonl, by a second reading of the record.
@Suite struct InstructCLITests {
    /// Patients with labs (values, units, flags, a tie), prescriptions and diagnoses over two admissions.
    static func timelines(patients: Int) -> String {
        var random = SeededRandom(seed: 9)
        var lines: [String] = []
        let labs = [("Sodium", "mmol/L"), ("Potassium", "mmol/L"), ("Creatinine", "mg/dL"), ("Hemoglobin", "g/dL")]
        let drugs = ["Metformin", "Lisinopril", "Heparin", "Furosemide", "Insulin"]
        for patient in 0..<patients {
            var events: [String] = []
            for admission in 0..<2 {
                let day = 10 + admission * 5
                events.append(#"{"name":"admissions","time":"2100-01-\#(day) 08:00:00","admission":"h\#(patient)-\#(admission)","records":[{"items":{"admission_type":"URGENT"}}]}"#)
                for hour in 0..<6 {
                    var records: [String] = []
                    for (name, unit) in labs where random.next() % 3 != 0 {
                        let value = Double(random.next() % 1000) / 10
                        let flag = value > 80 ? #","flag":"abnormal""# : ""
                        records.append(#"{"items":{"item_name":"\#(name)","value":"\#(value)","valueuom":"\#(unit)"\#(flag)}}"#)
                    }
                    if !records.isEmpty {
                        events.append(#"{"name":"labevents","time":"2100-01-\#(day) \#(String(format: "%02d", 9 + hour)):00:00","admission":"h\#(patient)-\#(admission)","records":[\#(records.joined(separator: ","))]}"#)
                    }
                    if random.next() % 2 == 0 {
                        let drug = drugs[Int(random.next() % UInt64(drugs.count))]
                        events.append(#"{"name":"prescriptions","time":"2100-01-\#(day) \#(String(format: "%02d", 9 + hour)):30:00","admission":"h\#(patient)-\#(admission)","records":[{"items":{"drug":"\#(drug)"}}]}"#)
                    }
                }
                events.append(#"{"name":"diagnoses_icd","time":"2100-01-\#(day + 2) 12:00:00","admission":"h\#(patient)-\#(admission)","records":[{"items":{"long_title":"Sepsis"}},{"items":{"long_title":"Acute kidney failure"}}]}"#)
            }
            // Two values of one lab at one time: not asked as a value at that time.
            events.append(#"{"name":"labevents","time":"2100-01-30 09:00:00","admission":"h\#(patient)-9","records":[{"items":{"item_name":"Lactate","value":"2.1","valueuom":"mmol/L"}},{"items":{"item_name":"Lactate","value":"3.4","valueuom":"mmol/L"}}]}"#)
            lines.append(#"{"patient":"p\#(patient)","events":[\#(events.joined(separator: ","))]}"#)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func run(_ small: SmallRun, patients: Int = 12) throws -> String {
        let timelines = try small.write("timelines.jsonl", timelines(patients: patients))
        let run = try small.makeRun("run", timelines: timelines)
        return run
    }

    static func jsonLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// A reading of the record made here, not by the tool.
    struct Reading {
        var event: Int, time: String, admission: String?, item: String, value: String?, unit: String?, flag: String?
        var withUnit: String { [value, unit].compactMap { $0 }.joined(separator: " ") }
    }

    static func readings(_ patient: [String: Any], event name: String, item: String) -> [Reading] {
        var found: [Reading] = []
        for (index, event) in ((patient["events"] as? [[String: Any]]) ?? []).enumerated() where event["name"] as? String == name {
            for record in (event["records"] as? [[String: Any]]) ?? [] {
                let items = record["items"] as? [String: Any] ?? [:]
                guard let value = items[item] as? String else { continue }
                found.append(Reading(event: index, time: event["time"] as! String, admission: event["admission"] as? String, item: value,
                                     value: items["value"] as? String, unit: items["valueuom"] as? String, flag: items["flag"] as? String))
            }
        }
        return found
    }

    /// The answer the record gives to a pair's question, recomputed.
    static func expectedAnswer(_ pair: [String: Any], patient: [String: Any]) throws -> String? {
        let question = pair["question"] as! String
        let admission = pair["admission"] as? String
        func item(between prefix: String, and suffix: String) -> String? {
            guard let start = question.range(of: prefix), let end = question.range(of: suffix, range: start.upperBound..<question.endIndex) else { return nil }
            return String(question[start.upperBound..<end.lowerBound])
        }
        let labs = readings(patient, event: "labevents", item: "item_name")
        switch pair["template"] as! String {
        case "lab_value_at_time":
            let name = item(between: "patient's ", and: " at ")!, time = item(between: " at ", and: "?")!
            let values = Set(labs.filter { $0.item == name && $0.time == time }.map(\.withUnit))
            return values.count == 1 ? values.first : nil
        case "lab_first_value", "lab_last_value":
            let name = item(between: "the first ", and: " measured") ?? item(between: "the last ", and: " measured")!
            let list = labs.filter { $0.item == name && $0.admission == admission }.sorted { $0.time < $1.time }
            let end = pair["template"] as! String == "lab_first_value" ? list.first! : list.last!
            return "\(end.withUnit) at \(end.time)"
        case "lab_count":
            let name = item(between: "times was ", and: " measured")!
            return String(labs.filter { $0.item == name && $0.admission == admission }.count)
        case "lab_abnormal_values":
            let name = item(between: "Which ", and: " results")!
            let flagged = labs.filter { $0.item == name && $0.admission == admission && $0.flag == "abnormal" }.sorted { $0.time < $1.time }
            return flagged.isEmpty ? "None" : flagged.map { "\($0.withUnit) at \($0.time)" }.joined(separator: "; ")
        case "drugs_in_interval":
            let start = item(between: "between ", and: " and ")!, end = item(between: " and ", and: "?")!
            let drugs = readings(patient, event: "prescriptions", item: "drug").filter { $0.time >= start && $0.time < end }.map(\.item)
            return Set(drugs).sorted { $0.lowercased() < $1.lowercased() }.joined(separator: "; ")
        case "lab_order":
            let a = item(between: "first: ", and: " or ")!, b = item(between: " or ", and: "?")!
            func first(_ name: String) -> String { labs.filter { $0.item == name && $0.admission == admission }.map(\.time).min()! }
            let earlier = first(a) < first(b) ? a : b
            return "\(earlier) (first at \(first(earlier)))"
        case "admission_diagnoses":
            let titles = readings(patient, event: "diagnoses_icd", item: "long_title").filter { $0.admission == admission }.map(\.item)
            return Set(titles).sorted { $0.lowercased() < $1.lowercased() }.joined(separator: "; ")
        default:
            return nil
        }
    }

    @Test func everyAnswerIsTheRecordsAnswer() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.run(small)
        let result = try Thinkgraph.run(["instruct", "templates", "--run", run, "--split", "all", "--per-template", "3"])
        try #require(result.status == 0, "\(result.standardError)")
        let patients = Dictionary(uniqueKeysWithValues: try Self.jsonLines(run + "/patients.jsonl").map { ($0["patient"] as! String, $0) })
        let pairs = try Self.jsonLines(run + "/instruct-templates.jsonl")
        var byTemplate: [String: Int] = [:]
        for pair in pairs {
            byTemplate[pair["template"] as! String, default: 0] += 1
            let patient = try #require(patients[pair["patient"] as! String])
            let expected = try Self.expectedAnswer(pair, patient: patient)
            #expect(expected != nil && pair["answer"] as? String == expected, "\(pair["question"]!): \(pair["answer"]!) vs \(expected ?? "none")")
        }
        // Every template asked on every patient, three times where it can; the tied Lactate never asked at its time.
        #expect(byTemplate.count == 8 && byTemplate.values.allSatisfy { $0 >= 12 }, "\(byTemplate)")
        #expect(!pairs.contains { ($0["question"] as? String)?.contains("Lactate at 2100-01-30") == true })
        #expect(Set(pairs.map { $0["id"] as! String }).count == pairs.count)
        // The same seed gives the same pairs; another seed other questions.
        let again = try Thinkgraph.run(["instruct", "templates", "--run", run, "--split", "all", "--per-template", "3"])
        #expect(again.status == 0)
        #expect(try Self.jsonLines(run + "/instruct-templates.jsonl").map { $0["question"] as! String } == pairs.map { $0["question"] as! String })
        _ = try Thinkgraph.run(["instruct", "templates", "--run", run, "--split", "all", "--per-template", "3", "--seed", "7"])
        #expect(try Self.jsonLines(run + "/instruct-templates.jsonl").map { $0["question"] as! String } != pairs.map { $0["question"] as! String })
    }

    @Test func testPatientsKeepTheirSamplesSplit() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.run(small, patients: 30)
        #expect(try Thinkgraph.run(["instruct", "templates", "--run", run]).status == 0)
        let samples = try Self.jsonLines(run + "/samples.jsonl")
        let testPatients = Set(samples.filter { $0["split"] as? String == "test" }.map { $0["patient"] as! String })
        let pairs = try Self.jsonLines(run + "/instruct-templates.jsonl")
        #expect(!testPatients.isEmpty && !pairs.isEmpty)
        #expect(pairs.allSatisfy { $0["split"] as? String == "train" && !testPatients.contains($0["patient"] as! String) })
    }

    @Test func aBadTemplateIsNamedAndNothingIsWritten() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.run(small, patients: 3)
        func template(_ extra: String, event: String = "labevents", item: String = "item_name") -> String {
            #"{"templates": [{"name": "t", "kind": "count", "event": "\#(event)", "item": "\#(item)", "question": "How many {item} in {admission}?"\#(extra)}]}"#
        }
        let cases: [(String, String)] = [
            (template("", item: "itemname"), #"templates[0]: template "t": no labevents event"#),
            (template(#", "hours": -2"#), "templates[0].hours"),
            (#"{"templates": [{"name": "t", "kind": "median", "event": "labevents", "item": "item_name", "question": "?"}]}"#, "unknown kind \"median\""),
            (#"{"templates": [{"name": "t", "kind": "count", "event": "labevents", "item": "item_name", "question": "{time}?"}]}"#,
             "unknown placeholder {time}"),
            (#"{"templates": [{"name": "t", "kind": "value_at_time", "event": "labevents", "item": "item_name", "question": "{item}?"}]}"#,
             "templates[0].value: missing"),
            (#"{"templates": [{"name": "t", "kind": "count", "event": "labevents", "item": "item_name", "question": "?", "colour": "red"}]}"#,
             "templates[0].colour: unknown member"),
        ]
        for (text, message) in cases {
            let file = try small.write("templates.json", text)
            let result = try Thinkgraph.run(["instruct", "templates", "--run", run, "--templates", file, "--split", "all"])
            #expect(result.status != 0 && result.standardError.contains(message), "\(message): \(result.standardError)")
            #expect(result.standardError.contains("templates.json"), "the file is named")
            #expect(!FileManager.default.fileExists(atPath: run + "/instruct-templates.jsonl"))
        }
        // A run without the template's events: counted, not an error.
        let file = try small.write("templates.json", template("", event: "chartevents"))
        let result = try Thinkgraph.run(["instruct", "templates", "--run", run, "--templates", file, "--split", "all"])
        #expect(result.status == 0 && result.standardOutput.contains("no patient has the events of: t"), "\(result.standardOutput)")
    }

    /// `--paraphrase` against the fault server (one paraphrase in three
    /// loses the question's values): answers stay as they were, and a
    /// question is reworded only where every value the template put in is
    /// still there. Run again, nothing is asked twice.
    @Test func paraphrasesKeepTheAnswersAndTheQuestionsValues() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.run(small, patients: 6)
        let plain = try Thinkgraph.run(["instruct", "templates", "--run", run, "--split", "all"])
        try #require(plain.status == 0, "\(plain.standardError)")
        let original = Dictionary(uniqueKeysWithValues: try Self.jsonLines(run + "/instruct-templates.jsonl").map { ($0["id"] as! String, $0) })
        let log = small.folder + "/requests.jsonl"
        let server = try LoopbackServer.faults(log: log, [])
        let arguments = ["instruct", "templates", "--run", run, "--split", "all", "--paraphrase", "--model", "fault",
                         "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--json"]
        let first = try Thinkgraph.run(arguments)
        try #require(first.status == 0, "\(first.standardError)")
        let pairs = try Self.jsonLines(run + "/instruct-templates.jsonl")
        #expect(pairs.count == original.count && RequestLog(path: log).delivered == original.count)
        var reworded = 0
        for pair in pairs {
            let before = try #require(original[pair["id"] as! String])
            #expect(pair["answer"] as? String == before["answer"] as? String)
            let question = pair["question"] as! String
            if let template = pair["template_question"] as? String {
                reworded += 1
                #expect(template == before["question"] as? String && question != template)
                for slot in pair["slots"] as! [String] { #expect(question.lowercased().contains(slot.lowercased()), "\(question) lost \(slot)") }
            } else {
                #expect(question == before["question"] as? String)
            }
        }
        #expect(reworded > 0 && reworded < pairs.count, "\(reworded) of \(pairs.count)")
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(first.standardOutput.utf8)) as? [String: Any])
        let paraphrase = try #require(stats["paraphrase"] as? [String: Any])
        #expect(paraphrase["paraphrased"] as? Int == reworded)
        #expect((paraphrase["template_question_kept"] as? [String: Int])?["lost_value"] == pairs.count - reworded)
        // Again: the answers are on disk, nothing is asked.
        let second = try Thinkgraph.run(arguments)
        #expect(second.status == 0 && RequestLog(path: log).delivered == original.count)
        #expect(try Self.jsonLines(run + "/instruct-templates.jsonl").map { $0["question"] as! String } == pairs.map { $0["question"] as! String })
        // Other templates' choices (another seed): only new or changed questions are asked.
        let reseeded = try Thinkgraph.run(["instruct", "templates", "--run", run, "--split", "all", "--seed", "7"])
        try #require(reseeded.status == 0)
        let before = Dictionary(uniqueKeysWithValues: original.map { ($0.key, $0.value["question"] as! String) })
        let fresh = try Self.jsonLines(run + "/instruct-templates.jsonl").filter { before[$0["id"] as! String] != $0["question"] as? String }.count
        #expect(fresh > 0, "another seed chose other events")
        let third = try Thinkgraph.run(arguments + ["--seed", "7"])
        #expect(third.status == 0, "\(third.standardError)")
        #expect(RequestLog(path: log).delivered == original.count + fresh, "\(fresh) new questions")
    }
}
