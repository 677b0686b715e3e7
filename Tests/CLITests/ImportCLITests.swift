import Foundation
import Testing
import TestSupport

@Suite struct ImportCLITests {
    @Test func importValidateAndRenderThroughTheExecutable() throws {
        let folder = try FHIRFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let imported = try Thinkgraph.run(["import", "fhir", folder + "/export", "--run", run, "--json", "--quiet"])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.contains(#""patients":2"#))
        let manifest = try String(contentsOfFile: run + "/run.json", encoding: .utf8)
        #expect(manifest.contains(#""import":{"status":"complete""#) && manifest.contains(#""outputs":{"patients.jsonl":""#))

        let valid = try Thinkgraph.run(["import", "validate", run + "/patients.jsonl"])
        #expect(valid.status == 0)
        #expect(valid.standardOutput.contains("2 patients, 10 events, 0 problems"))

        let rendered = try Thinkgraph.run(["render", "--patients", run + "/patients.jsonl", "--patient", "pt-1", "--from", "9"])
        #expect(rendered.status == 0)
        #expect(rendered.standardOutput.hasPrefix("## Discharge [2025-09-02 09:00:00]\n- note_type: Discharge summary\n"))

        let missing = try Thinkgraph.run(["render", "--patients", run + "/patients.jsonl", "--patient", "../x"])
        #expect(missing.status != 0 && missing.standardError.contains("no patient with id \"../x\""))
    }

    /// An OMOP import samples with the shipped OMOP tasks unless told
    /// otherwise; `--tasks` names a shipped set or a file.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: OMOPSample.folder + "/person.csv"), "no OMOP sample (run Pipelines/test-data.sh)"))
    func anOMOPImportSamplesWithTheOMOPTasks() throws {
        let folder = NSTemporaryDirectory() + "tg-omop-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let imported = try Thinkgraph.run(["import", "omop", OMOPSample.folder, "--run", run, "--json", "--quiet"])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.contains(#""format":"omop-cdm""#) && imported.standardOutput.contains(#""rejected":0"#))
        let sampled = try Thinkgraph.run(["samples", "--run", run, "--json"])
        #expect(sampled.status == 0, "\(sampled.standardError)")
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(sampled.standardOutput.utf8)) as? [String: Any])
        let tasks = try #require(counts["tasks"] as? [String: [String: Any]])
        #expect(Set(tasks.keys) == ["visit_type", "conditions", "conditions_ccs", "drugs", "drugs_atc", "measurements", "procedures",
                                    "observations", "devices"])
        #expect((tasks["drugs"]?["train"] as? Int ?? 0) > 0 && (tasks["measurements"]?["train"] as? Int ?? 0) > 0, "\(tasks)")
        #expect(try String(contentsOfFile: run + "/tasks.json", encoding: .utf8).contains("Decision-making tasks over an OMOP CDM import"))
        let manifest = try String(contentsOfFile: run + "/run.json", encoding: .utf8)
        #expect(manifest.contains(#""tasks":"(shipped omop tasks)""#))
        // The EHR-R1 set on the same run, by name; an unknown name is named.
        let standard = try Thinkgraph.run(["samples", "--run", run, "--tasks", "ehr-r1", "--json"])
        #expect(standard.status == 0 && standard.standardOutput.contains(#""labevents""#))
        let unknown = try Thinkgraph.run(["samples", "--run", run, "--tasks", "mimic"])
        #expect(unknown.status != 0 && unknown.standardError.contains("mimic") && unknown.standardError.contains("ehr-r1, omop"))
    }

    @Test func importsMIMICFoldersThroughTheExecutable() throws {
        let folder = try MIMICFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Thinkgraph.run(["import", "mimic", "--hosp", folder + "/hosp", "--note", folder + "/note",
                                         "--run", folder + "/run", "--json", "--quiet"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains(#""format":"mimic-iv""#) && result.standardOutput.contains(#""patients":2"#))
        let rendered = try Thinkgraph.run(["render", "--patients", folder + "/run/patients.jsonl", "--patient", "10000032",
                                           "--from", "11", "--to", "12"])
        #expect(rendered.standardOutput == """
            ## Labevents [2180-05-07 05:10:00]
            | item_name | value | valuenum | valueuom | ref_range_lower | ref_range_upper | priority | fluid | category | comments |
            | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
            | Glucose | 95 | 95 | mg/dL | 70 | 100 | ROUTINE | Blood | Chemistry |  |
            | Sodium | ___ |  | mEq/L | 133 | 145 | ROUTINE | Blood | Chemistry | HEMOLYZED, "see note" repeat requested |

            """, "\(rendered.standardOutput)")
    }

    @Test func strictImportFailsNamingFileLineAndFieldAndWritesNothing() throws {
        let folder = try FHIRFixture.write(extra: ["Procedure.ndjson": [
            #"{"resourceType":"Procedure","id":"p-1","subject":{"reference":"Patient/pt-1"},"performedDateTime":"2025-13-01","code":{"text":"x"}}"#,
        ]])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Thinkgraph.run(["import", "fhir", folder + "/export", "--out", folder + "/p.jsonl", "--quiet"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("Procedure.ndjson:1: field Procedure/p-1.performedDateTime: not a valid date/time"),
                "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["export"])

        try "{\"patient\": \"p\", \"events\": [{\"name\": \"x\", \"time\": \"bad\", \"text\": \"t\"}]}\n"
            .write(toFile: folder + "/bad.jsonl", atomically: true, encoding: .utf8)
        let invalid = try Thinkgraph.run(["import", "validate", folder + "/bad.jsonl"])
        #expect(invalid.status == 1)
        #expect(invalid.standardOutput.contains("bad.jsonl:1: field events[0].time: not a valid time"), "\(invalid.standardOutput)")
    }
}
