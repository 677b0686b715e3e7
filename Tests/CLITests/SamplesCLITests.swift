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

        let samples = try Thinkgraph.run(["samples", "--run", run, "--test-fraction", "0", "--json"])
        #expect(samples.status == 0, "\(samples.standardError)")
        #expect(samples.standardOutput.contains(#""diagnoses":{"train":2,"test":0,"available":2}"#), "\(samples.standardOutput)")
        let manifest = try String(contentsOfFile: run + "/run.json", encoding: .utf8)
        #expect(manifest.contains(#""samples":{"status":"complete""#))
        let lines = try String(contentsOfFile: run + "/samples.jsonl", encoding: .utf8).split(separator: "\n")
        let diagnosis = try #require(lines.first { $0.contains(#""task":"diagnoses""#) })
        #expect(diagnosis.contains(#""id":"10000032:diagnoses:21800507T171500""#))
        #expect(diagnosis.contains(#""targets":["Portal hypertension","Other ascites"]"#))

        // The diagnoses context hides the discharge summary but shows labs.
        let rendered = try Thinkgraph.run(["render", "--run", run, "--sample", "10000032:diagnoses:21800507T171500"])
        #expect(rendered.status == 0, "\(rendered.standardError)")
        #expect(rendered.standardOutput.hasPrefix("## Transfers [2180-05-06 19:17:00]\n- eventtype: ED\n"))
        #expect(rendered.standardOutput.contains("## Admissions [2180-05-06 22:23:00]\n"))
        #expect(rendered.standardOutput.contains("## Labevents [2180-05-07 05:10:00]"))
        #expect(!rendered.standardOutput.contains("Chief Complaint"))

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
