import Foundation
import Testing
import TestSupport

@Suite struct SamplesCLITests {
    @Test func samplesFromAnImportedRunAndTheirRenderedContext() throws {
        let folder = try MIMICFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let imported = try Thinkgraph.run(["import", "mimic", "--hosp", folder + "/hosp", "--note", folder + "/note",
                                           "--run", run, "--quiet"])
        #expect(imported.status == 0, "\(imported.standardError)")

        // The shipped rules want more than ten context events: these two
        // patients have fewer, and every candidate is counted as removed.
        let shipped = try Thinkgraph.run(["samples", "--run", run, "--test-fraction", "0", "--json"])
        #expect(shipped.status == 0, "\(shipped.standardError)")
        #expect(shipped.standardOutput.contains(#""diagnoses_icd":{"train":0,"test":0,"available":0,"removed":{"no_target":0,"admission_in_window":1,"min_context_events":1"#),
                "\(shipped.standardOutput)")

        let small = SmallRun(folder: folder)
        let samples = try Thinkgraph.run(["samples", "--run", run, "--test-fraction", "0", "--tasks", try small.smallTaskFile(), "--json"])
        #expect(samples.status == 0, "\(samples.standardError)")
        // The second patient's stay began four days before its diagnoses.
        #expect(samples.standardOutput.contains(#""diagnoses_icd":{"train":1,"test":0,"available":1,"removed":{"no_target":0,"admission_in_window":1"#),
                "\(samples.standardOutput)")
        let manifest = try String(contentsOfFile: run + "/run.json", encoding: .utf8)
        #expect(manifest.contains(#""samples":{"status":"complete""#))
        let lines = try String(contentsOfFile: run + "/samples.jsonl", encoding: .utf8).split(separator: "\n")
        let diagnosis = try #require(lines.first { $0.contains(#""task":"diagnoses_icd""#) })
        #expect(diagnosis.contains(#""id":"10000032:diagnoses_icd:21800507T171500""#))
        #expect(diagnosis.contains(#""targets":["Portal hypertension","Other ascites"]"#))
        // Transfers without a care unit predict the event type.
        #expect(lines.contains { $0.contains(#""task":"transfers""#) && $0.contains(#""targets":["discharge"]"#) })
        #expect(FileManager.default.fileExists(atPath: run + "/tasks.json"))

        // The diagnoses context opens with the demographics (age at the
        // target), hides the discharge summary, shows labs, and nothing
        // known only later: no discharge time or location, no out-times.
        let rendered = try Thinkgraph.run(["render", "--run", run, "--sample", "10000032:diagnoses_icd:21800507T171500"])
        #expect(rendered.status == 0, "\(rendered.standardError)")
        let text = rendered.standardOutput
        #expect(text.hasPrefix("## Patient Demographics\n- Age: 52\n- Gender: Female\n\n## Transfers [2180-05-06 19:17:00]\n- Eventtype: ED\n- Careunit: Emergency Department\n"), "\(text)")
        #expect(text.contains("## Admissions [2180-05-06 22:23:00]\n- Admission_Type: URGENT\n- Admission_Location: TRANSFER FROM HOSPITAL\n"))
        #expect(text.contains("## Laboratory Test Events [2180-05-07 05:10:00]\n| Item_Name | Value | Valueuom |"))
        #expect(!text.contains("Chief Complaint"))
        for later in ["2180-05-07 17:15", "2180-05-07 17:21", "HOME", "Dischtime", "Outtime", "Hospital_Expire_Flag"] {
            #expect(!text.contains(later), "\(later) in \(text)")
        }

        // A changed timeline file is refused until re-imported or forced.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: run + "/patients.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data("\n".utf8))
        try handle.close()
        let refused = try Thinkgraph.run(["samples", "--run", run])
        #expect(refused.status != 0 && refused.standardError.contains("changed since it was imported"))
        #expect(try Thinkgraph.run(["samples", "--run", run, "--force", "--json"]).status == 0)
    }
}
