import Foundation
import Testing
import TestSupport

/// A small run: a lexicon from the test ontology and patients with notes.
struct SmallRun {
    var folder = NSTemporaryDirectory() + "tg-extract-\(UUID().uuidString)"
    var lexicon: String { folder + "/lex" }

    func write(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        return folder + "/" + name
    }

    /// Builds the lexicon and a timeline file of `patients` patients.
    func prepare(patients: Int, ontology: String = TestOntology.clinical) throws -> String {
        let obo = try write("mini.obo", ontology)
        let built = try Thinkgraph.run(["lexicon", "build", "--out", lexicon, "--obo", obo, "--quiet"])
        try #require(built.status == 0, "\(built.standardError)")
        let sentences = ["Patient denies fever but reports a headache.", "History of seizures since childhood.",
                         "Mother had breast cancer.", "Chest film suggests pneumonia in the left lower lobe.",
                         "No signs of congestive heart failure today.", "Possible lung cancer, biopsy planned."]
        var lines: [String] = []
        var random = SeededRandom(seed: 5)
        for patient in 0..<patients {
            var events: [String] = [#"{"name":"admissions","time":"2100-01-01 08:00:00","admission":"h\#(patient)","records":[{"items":{"admission_type":"URGENT"}}]}"#]
            for hour in 1...3 {
                let text = (0..<4).map { _ in sentences[Int(random.next() % UInt64(sentences.count))] }.joined(separator: " ")
                events.append(#"{"name":"radiology","time":"2100-01-01 0\#(hour):30:00","admission":"h\#(patient)","records":[{"items":{"exam_name":"CHEST X-RAY"}}],"text":"\#(text)"}"#)
                events.append(#"{"name":"diagnoses_icd","time":"2100-01-01 1\#(hour):00:00","admission":"h\#(patient)","records":[{"items":{"long_title":"\#(hour == 2 ? "Seizures" : "Pneumonia")"}},{"items":{"long_title":"Febrile illness"}}]}"#)
            }
            lines.append(#"{"patient":"p\#(patient)","events":[\#(events.joined(separator: ","))]}"#)
        }
        return try write("timelines.jsonl", lines.joined(separator: "\n") + "\n")
    }

    /// The shipped task file with the context-size rule opened up: these
    /// patients have a handful of events, where EHR-R1's rule asks for more
    /// than ten.
    func smallTaskFile() throws -> String {
        let shipped = try Thinkgraph.run(["samples", "--print-default-tasks"])
        var root = try #require(try JSONSerialization.jsonObject(with: Data(shipped.standardOutput.utf8)) as? [String: Any])
        var defaults = root["defaults"] as? [String: Any] ?? [:]
        defaults["min_context_events"] = 0
        root["defaults"] = defaults
        let path = folder + "/small-tasks.json"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A run folder with patients and samples.
    func makeRun(_ name: String, timelines: String) throws -> String {
        let run = folder + "/" + name
        let tasks = try smallTaskFile()
        for arguments in [["import", "jsonl", timelines, "--run", run, "--quiet"], ["samples", "--run", run, "--tasks", tasks, "--json"]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        return run
    }
}

@Suite struct ExtractCLITests {
    @Test func extractsValuesAndTextWithContext() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try small.makeRun("run", timelines: try small.prepare(patients: 3))
        let extracted = try Thinkgraph.run(["extract", "--run", run, "--lexicon", small.lexicon, "--quiet", "--json"])
        #expect(extracted.status == 0, "\(extracted.standardError)")
        let merged = try Thinkgraph.run(["extract", "merge", "--run", run, "--json"])
        #expect(merged.status == 0, "\(merged.standardError)")
        #expect(merged.standardOutput.contains(#""records":3"#))
        let text = try String(contentsOfFile: run + "/extract.jsonl", encoding: .utf8)
        // Structured values: exact, approximate, string.
        #expect(text.contains(#""surface":"Seizures","link":"exact""#))
        #expect(text.contains(#""surface":"CHEST X-RAY","link":"string""#))
        #expect(text.contains(#""concept":"STR:febrile illness""#))
        // Text with context.
        #expect(text.contains(#""surface":"fever","link":"text","similarity":1.0,"field":"text","negated":true"#))
        #expect(text.contains(#""surface":"breast cancer","link":"text","similarity":1.0,"field":"text","family":true"#))
        let manifest = try String(contentsOfFile: run + "/run.json", encoding: .utf8)
        #expect(manifest.contains(#""extract":{"status":"complete""#))
    }

    @Test func mergeRefusesMissingChunks() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try small.makeRun("run", timelines: try small.prepare(patients: 6))
        let one = try Thinkgraph.run(["extract", "--run", run, "--lexicon", small.lexicon, "--chunk-num", "3", "--chunk-idx", "1", "--quiet"])
        #expect(one.status == 0, "\(one.standardError)")
        let merged = try Thinkgraph.run(["extract", "merge", "--run", run])
        #expect(merged.status != 0)
        #expect(merged.standardError.contains("2 of 3 chunks not complete: 0, 2"), "\(merged.standardError)")
    }

    @Test func mergeRefusesAChunkDamagedAfterItFinished() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try small.makeRun("run", timelines: try small.prepare(patients: 6))
        for index in 0..<2 {
            let worker = try Thinkgraph.run(["extract", "--run", run, "--lexicon", small.lexicon, "--chunk-num", "2", "--chunk-idx", "\(index)", "--quiet"])
            try #require(worker.status == 0, "\(worker.standardError)")
        }
        #expect(try Thinkgraph.run(["extract", "merge", "--run", run]).status == 0)
        // One line deleted from a finished chunk: merge names the chunk and refuses.
        let chunk = run + "/extract/chunk-0000-of-0002.jsonl"
        let lines = try String(contentsOfFile: chunk, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        try #require(lines.count > 2)
        try (lines.dropFirst().joined(separator: "\n")).write(toFile: chunk, atomically: true, encoding: .utf8)
        let damaged = try Thinkgraph.run(["extract", "merge", "--run", run])
        #expect(damaged.status != 0 && damaged.standardError.contains("chunk-0000-of-0002.jsonl")
                && damaged.standardError.contains("changed since its worker finished") && damaged.standardError.contains("run chunk 0 again"),
                "\(damaged.standardError)")
        // Run again as the message says; then a co-occurrence chunk changed after it finished is refused too.
        try? FileManager.default.removeItem(atPath: run + "/extract/chunk-0000-of-0002.done")
        #expect(try Thinkgraph.run(["extract", "--run", run, "--lexicon", small.lexicon, "--chunk-num", "2", "--chunk-idx", "0", "--quiet"]).status == 0)
        #expect(try Thinkgraph.run(["extract", "merge", "--run", run]).status == 0)
        #expect(try Thinkgraph.run(["cooccur", "--run", run, "--quiet"]).status == 0)
        let counts = try #require(try FileManager.default.contentsOfDirectory(atPath: run + "/cooccur").first { $0.hasSuffix(".sqlite") })
        let handle = try #require(FileHandle(forWritingAtPath: run + "/cooccur/" + counts))
        try handle.seekToEnd()
        handle.write(Data("x".utf8))
        try handle.close()
        let cooccur = try Thinkgraph.run(["cooccur", "merge", "--run", run])
        #expect(cooccur.status != 0 && cooccur.standardError.contains(counts) && cooccur.standardError.contains("changed since"),
                "\(cooccur.standardError)")
    }

    /// Workers killed with SIGKILL at random moments, again and again, then
    /// run to the end: the merged output equals an uninterrupted run's, byte
    /// for byte (no record lost, none doubled).
    @Test func killNineAtRandomMomentsLosesAndDoublesNothing() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let timelines = try small.prepare(patients: 160)
        let reference = try small.makeRun("reference", timelines: timelines)
        let killed = try small.makeRun("killed", timelines: timelines)
        for index in 0..<2 {
            let result = try Thinkgraph.run(["extract", "--run", reference, "--lexicon", small.lexicon, "--chunk-num", "2",
                                             "--chunk-idx", String(index), "--quiet"])
            try #require(result.status == 0, "\(result.standardError)")
        }
        try #require(try Thinkgraph.run(["extract", "merge", "--run", reference]).status == 0)

        var random = SeededRandom(seed: 99)
        var kills = 0
        for index in 0..<2 {
            var finished = false
            for _ in 0..<30 where !finished {
                let process = Process()
                process.executableURL = Thinkgraph.executable
                process.arguments = ["extract", "--run", killed, "--lexicon", small.lexicon, "--chunk-num", "2",
                                     "--chunk-idx", String(index), "--save-every", String(1 + random.next() % 3), "--quiet"]
                process.standardError = FileHandle.nullDevice
                try process.run()
                // Within the first 210 ms: a worker's whole chunk takes a few
                // hundred milliseconds, less as matching gets faster.
                usleep(UInt32(10_000 + random.next() % 200_000))
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    kills += 1
                }
                process.waitUntilExit()
                finished = process.terminationReason == .exit && process.terminationStatus == 0
            }
            if !finished {
                let last = try Thinkgraph.run(["extract", "--run", killed, "--lexicon", small.lexicon, "--chunk-num", "2",
                                               "--chunk-idx", String(index), "--quiet"])
                try #require(last.status == 0, "\(last.standardError)")
            }
        }
        #expect(kills >= 4, "only \(kills) workers were killed mid-run")
        let merged = try Thinkgraph.run(["extract", "merge", "--run", killed, "--json"])
        #expect(merged.status == 0, "\(merged.standardError)")
        #expect(merged.standardOutput.contains(#""records":160,"duplicates_dropped":0"#), "\(merged.standardOutput)")
        let expected = try Data(contentsOf: URL(fileURLWithPath: reference + "/extract.jsonl"))
        let actual = try Data(contentsOf: URL(fileURLWithPath: killed + "/extract.jsonl"))
        #expect(expected == actual)
    }
}

@Suite struct CooccurCLITests {
    func top(_ run: String, _ extra: [String] = []) throws -> String {
        let result = try Thinkgraph.run(["cooccur", "top", "--run", run, "--task", "diagnoses_icd", "--concept", "Pneumonia",
                                         "--min-support", "1", "-k", "50", "--json"] + extra)
        #expect(result.status == 0, "\(result.standardError)")
        return result.standardOutput
    }

    @Test func chunkedCountsEqualOneChunkAndNegationsStayOut() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let timelines = try small.prepare(patients: 12)
        var outputs: [String] = []
        for (name, chunks) in [("one", 1), ("three", 3)] {
            let run = try small.makeRun(name, timelines: timelines)
            #expect(try Thinkgraph.run(["extract", "--run", run, "--lexicon", small.lexicon, "--quiet"]).status == 0)
            #expect(try Thinkgraph.run(["extract", "merge", "--run", run]).status == 0)
            for index in 0..<chunks {
                let counted = try Thinkgraph.run(["cooccur", "--run", run, "--chunk-num", String(chunks), "--chunk-idx", String(index),
                                                  "--chunk-split", "shuffle", "--quiet"])
                #expect(counted.status == 0, "\(counted.standardError)")
            }
            let merged = try Thinkgraph.run(["cooccur", "merge", "--run", run, "--json"])
            #expect(merged.status == 0, "\(merged.standardError)")
            outputs.append(try top(run))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0].contains(#""name":"Seizure""#))
        // "denies fever" is negated: out of the history unless kept.
        #expect(!outputs[0].contains(#""name":"Fever""#))
        let run = small.folder + "/one"
        try FileManager.default.removeItem(atPath: run + "/cooccur")
        #expect(try Thinkgraph.run(["cooccur", "--run", run, "--keep-negated", "--quiet"]).status == 0)
        #expect(try Thinkgraph.run(["cooccur", "merge", "--run", run]).status == 0)
        #expect(try top(run).contains(#""name":"Fever""#))

        let readable = try Thinkgraph.run(["cooccur", "top", "--run", run, "--task", "diagnoses_icd", "--concept", "pneumonia",
                                           "--min-support", "1"])
        #expect(readable.standardOutput.contains("as target in diagnoses_icd (min support 1):"), "\(readable.standardOutput)")
        let unknown = try Thinkgraph.run(["cooccur", "top", "--run", run, "--task", "nope", "--concept", "x"])
        #expect(unknown.status != 0 && unknown.standardError.contains("no task \"nope\""))
    }
}

@Suite struct EvidenceCLITests {
    /// The test ontology plus one relation: pneumonia is associated with
    /// headache (and so headache with pneumonia, stored both ways).
    static let ontology = TestOntology.clinical.replacingOccurrences(
        of: "name: Pneumonia\n", with: "name: Pneumonia\nrelationship: associated_with HP:0002315\n")

    @Test func evidenceThroughRunChunksFindsPathsForEverySample() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try small.makeRun("run", timelines: try small.prepare(patients: 8, ontology: Self.ontology))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Pipelines/run-chunks.sh").path
        func chunks(_ arguments: [String]) throws -> CommandResult {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [script] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(["THINKGRAPH": Thinkgraph.executable.path]) { $1 }
            let output = Pipe(), error = Pipe()
            process.standardOutput = output
            process.standardError = error
            try process.run()
            let out = output.fileHandleForReading.readDataToEndOfFile(), err = error.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return CommandResult(status: process.terminationStatus, standardOutput: String(decoding: out, as: UTF8.self),
                                 standardError: String(decoding: err, as: UTF8.self))
        }
        for arguments in [["extract", "2", "--run", run, "--lexicon", small.lexicon, "--quiet"], ["cooccur", "2", "--run", run, "--quiet"],
                          ["evidence", "3", "--run", run, "--lexicon", small.lexicon, "--threshold", "0", "--min-support", "1", "--quiet"]] {
            let result = try chunks(arguments)
            #expect(result.status == 0, "\(arguments): \(result.standardError)")
        }
        // Every training sample has a record, and no test sample.
        let sampleLines = try String(contentsOfFile: run + "/samples.jsonl", encoding: .utf8).split(separator: "\n")
        let training = sampleLines.filter { $0.contains(#""split":"train""#) }.count
        let lines = try String(contentsOfFile: run + "/evidence.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == training && training < sampleLines.count)
        #expect(lines.allSatisfy { $0.contains(#""split":"train""#) })
        #expect(lines.allSatisfy { $0.contains(#""status":"graph""#) || $0.contains(#""status":"no_path""#) || $0.contains(#""status":"no_pairs""#) })
        // Paths end in the patient's own words ("reports a headache"), their
        // relations written as words.
        #expect(lines.contains { $0.contains(#""path":["Pneumonia","associated with","headache"]"#) },
                "\(lines.filter { $0.contains("graph") }.prefix(2))")
        #expect(try String(contentsOfFile: run + "/run.json", encoding: .utf8).contains(#""evidence":{"status":"complete""#))

        // A failing worker is reported with its chunk and log.
        let failing = try chunks(["evidence", "2", "--run", run, "--lexicon", small.folder + "/missing", "--quiet"])
        #expect(failing.status == 1 && failing.standardError.contains("2 of 2 workers failed: chunk 0 1"), "\(failing.standardError)")

        let path = try Thinkgraph.run(["evidence", "path", "--lexicon", small.lexicon, "headache", "pneumonia"])
        #expect(path.status == 0, "\(path.standardError)")
        #expect(path.standardOutput.hasPrefix("Headache -> associated with -> Pneumonia\nC0018681 -[associated_with]-> C0032285\n1 hops"),
                "\(path.standardOutput)")
        let none = try Thinkgraph.run(["evidence", "path", "--lexicon", small.lexicon, "fever", "seizure"])
        #expect(none.status == 1 && none.standardOutput.contains("no path"))

        // The benchmark's baseline finds the same paths as ours.
        let bench = try Thinkgraph.run(["evidence", "bench", "--lexicon", small.lexicon, "--pairs", "40", "--rounds", "2"])
        #expect(bench.status == 0, "\(bench.standardError)")
        #expect(bench.standardOutput.contains("SQL paths identical to ours") && bench.standardOutput.contains("of 2 rounds"),
                "\(bench.standardOutput)")
    }
}

/// Paths that climb to an ICD-10-CM chapter and cross over through a
/// coding note are not knowledge: not found by default, found with the
/// reference's rules.
@Suite struct PathProfileCLITests {
    static let tabular = """
        <?xml version="1.0" encoding="utf-8"?>
        <ICD10CM.tabular>
          <version>2026</version>
          <chapter>
            <name>4</name>
            <desc>Endocrine, nutritional and metabolic diseases (E00-E89)</desc>
            <section id="E86-E87">
              <desc>Volume depletion and fluid disorders (E86-E87)</desc>
              <diag>
                <name>E87</name>
                <desc>Other disorders of fluid, electrolyte and acid-base balance</desc>
                <diag><name>E87.5</name><desc>Hyperkalemia</desc></diag>
              </diag>
            </section>
          </chapter>
          <chapter>
            <name>14</name>
            <desc>Diseases of the genitourinary system (N00-N99)</desc>
            <excludes2><note>endocrine, nutritional and metabolic diseases (E87)</note></excludes2>
            <section id="N17-N19">
              <desc>Acute kidney failure and chronic kidney disease (N17-N19)</desc>
              <diag>
                <name>N18</name>
                <desc>Chronic kidney disease (CKD)</desc>
                <diag><name>N18.9</name><desc>Chronic kidney disease, unspecified</desc></diag>
              </diag>
            </section>
          </chapter>
        </ICD10CM.tabular>
        """

    @Test func aPathThroughAChapterAndACodingNoteIsNotKnowledge() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let xml = try small.write("icd.xml", Self.tabular)
        let built = try Thinkgraph.run(["lexicon", "build", "--out", small.lexicon, "--icd10cm", xml, "--quiet"])
        try #require(built.status == 0, "\(built.standardError)")
        let reference = try Thinkgraph.run(["evidence", "path", "--lexicon", small.lexicon, "--path-profile", "ehr-r1",
                                            "chronic kidney disease, unspecified", "hyperkalemia"])
        #expect(reference.status == 0 && reference.standardOutput.contains("-[inverse_excludes2]->"),
                "\(reference.standardOutput)\(reference.standardError)")
        let meaning = try Thinkgraph.run(["evidence", "path", "--lexicon", small.lexicon, "chronic kidney disease, unspecified",
                                          "hyperkalemia"])
        #expect(!meaning.standardOutput.contains("genitourinary"), "\(meaning.standardOutput)")
        #expect(meaning.standardOutput.contains("no path") || meaning.status != 0, "\(meaning.standardOutput)\(meaning.standardError)")
    }
}

/// One clinical idea, one concept: HPO, the Disease Ontology and ICD-10-CM
/// meet on the UMLS CUI their cross-references name.
@Suite struct ConceptJoinCLITests {
    @Test func hypertensionIsOneConceptAcrossVocabularies() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let hpo = try small.write("hp.obo", """
            format-version: 1.2
            ontology: hp

            [Term]
            id: HP:0000822
            name: Hypertension
            xref: UMLS:C0020538

            """)
        let doid = try small.write("doid.obo", """
            format-version: 1.2
            ontology: doid/doid-non-classified.obo

            [Term]
            id: DOID:10763
            name: hypertension
            synonym: "high blood pressure" EXACT []
            xref: ICD10CM:I10
            xref: UMLS_CUI:C0020538

            [Term]
            id: DOID:9351
            name: diabetes mellitus
            xref: ICD10CM:E10
            xref: ICD10CM:E11

            """)
        let icd = try small.write("icd.xml", """
            <?xml version="1.0" encoding="utf-8"?>
            <ICD10CM.tabular>
              <version>2026</version>
              <chapter>
                <name>9</name>
                <desc>Diseases of the circulatory system (I00-I99)</desc>
                <section id="I10-I1A">
                  <desc>Hypertensive diseases (I10-I1A)</desc>
                  <diag><name>I10</name><desc>Essential (primary) hypertension</desc></diag>
                </section>
              </chapter>
              <chapter>
                <name>4</name>
                <desc>Endocrine, nutritional and metabolic diseases (E00-E89)</desc>
                <section id="E08-E13">
                  <desc>Diabetes mellitus (E08-E13)</desc>
                  <diag><name>E10</name><desc>Type 1 diabetes mellitus</desc></diag>
                  <diag><name>E11</name><desc>Type 2 diabetes mellitus</desc></diag>
                </section>
              </chapter>
            </ICD10CM.tabular>
            """)
        let built = try Thinkgraph.run(["lexicon", "build", "--out", small.lexicon, "--obo", hpo, "--obo", doid, "--icd10cm", icd, "--quiet"])
        try #require(built.status == 0, "\(built.standardError)")
        for term in ["hypertension", "essential (primary) hypertension", "high blood pressure"] {
            let found = try Thinkgraph.run(["lexicon", "lookup", small.lexicon, term])
            #expect(found.standardOutput.hasPrefix("C0020538\t"), "\(term): \(found.standardOutput)")
            #expect(found.standardOutput.contains("sources: DOID, HPO, ICD10CM"), "\(found.standardOutput)")
        }
        // Two ICD-10-CM xrefs are not an exact match: E10 and E11 stay apart.
        let type2 = try Thinkgraph.run(["lexicon", "lookup", small.lexicon, "type 2 diabetes mellitus"])
        #expect(type2.standardOutput.hasPrefix("ICD10CM:E11\t"), "\(type2.standardOutput)")
    }
}

/// Clinical relations from Synthea's disease modules: drugs (by ingredient),
/// procedures, tests and symptoms of a condition.
@Suite struct SyntheaLexiconCLITests {
    static let module = """
        {"name": "Diabetes", "states": {
          "Initial": {"type": "Initial", "direct_transition": "Onset"},
          "Onset": {"type": "ConditionOnset", "assign_to_attribute": "diabetes",
                    "codes": [{"system": "SNOMED-CT", "code": "44054006", "display": "Diabetes mellitus type 2 (disorder)"}]},
          "Thirst": {"type": "Symptom", "symptom": "Polydipsia"},
          "A1c": {"type": "Observation", "codes": [{"system": "LOINC", "code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood"}]},
          "Labs": {"type": "CallSubmodule", "submodule": "care/kidney_labs"}
        }}
        """
    /// A submodule: its lab is drawn for its caller's condition.
    static let labs = """
        {"name": "Kidney labs", "states": {
          "Creatinine": {"type": "Observation", "codes": [{"system": "LOINC", "code": "2160-0", "display": "Creatinine [Mass/volume] in Serum or Plasma"}]}
        }}
        """
    static let care = """
        {"name": "Diabetes care", "states": {
          "Metformin": {"type": "MedicationOrder", "reason": "diabetes",
                        "codes": [{"system": "RxNorm", "code": 860975, "display": "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"}]},
          "Glucose": {"type": "Observation", "codes": [{"system": "LOINC", "code": "2339-0", "display": "Glucose [Mass/volume] in Blood"}]}
        }}
        """

    /// The lexicon of a one-term HPO and the three modules above, in `small.lexicon`.
    static func buildLexicon(_ small: SmallRun) throws {
        let hpo = try small.write("hp.obo", "format-version: 1.2\nontology: hp\n\n[Term]\nid: HP:0001959\nname: Polydipsia\n\n")
        try FileManager.default.createDirectory(atPath: small.folder + "/modules/care", withIntermediateDirectories: true)
        _ = try small.write("modules/diabetes.json", Self.module)
        _ = try small.write("modules/care/diabetes_care.json", Self.care)
        _ = try small.write("modules/care/kidney_labs.json", Self.labs)
        let built = try Thinkgraph.run(["lexicon", "build", "--out", small.lexicon, "--obo", hpo, "--synthea", small.folder + "/modules", "--quiet"])
        try #require(built.status == 0, "\(built.standardError)")
    }

    @Test func drugsTestsAndSymptomsJoinTheirCondition() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        try Self.buildLexicon(small)
        // The ingredient names the drug; the symptom joins HPO's term.
        let metformin = try Thinkgraph.run(["lexicon", "lookup", small.lexicon, "metformin"])
        #expect(metformin.standardOutput.hasPrefix("INGREDIENT:metformin\t"), "\(metformin.standardOutput)")
        for (from, through) in [("metformin", "may treat"), ("polydipsia", "is a symptom of"),
                                ("hemoglobin a1c/hemoglobin.total in blood", "is monitored in"),
                                // A care module's lab: for the condition its prescriptions' reason names.
                                ("glucose [mass/volume] in blood", "is monitored in"),
                                // A submodule's lab: for the condition of the module calling it.
                                ("creatinine [mass/volume] in serum or plasma", "is monitored in")] {
            let path = try Thinkgraph.run(["evidence", "path", "--lexicon", small.lexicon, from, "diabetes mellitus type 2"])
            #expect(path.status == 0 && path.standardOutput.contains("SNOMEDCT:44054006") && path.standardOutput.contains(through)
                    && !path.standardOutput.contains("no path"), "\(from): \(path.standardOutput)\(path.standardError)")
        }
        let polydipsia = try Thinkgraph.run(["lexicon", "lookup", small.lexicon, "polydipsia"])
        #expect(polydipsia.standardOutput.hasPrefix("HP:0001959\t") && polydipsia.standardOutput.contains("SYNTHEA"), "\(polydipsia.standardOutput)")
        let info = try Thinkgraph.run(["lexicon", "info", small.lexicon])
        #expect(info.standardOutput.contains("synthea Synthea modules"), "\(info.standardOutput)")
    }

    /// A lab or drug row that carries its code links by the code, whatever
    /// its name says; a code the lexicon lacks falls back to the name.
    @Test func codedRowsLinkByTheirCodeFirst() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        try Self.buildLexicon(small)
        var events = [#"{"name":"admissions","time":"2100-01-01 08:00:00","admission":"h1","records":[{"items":{"admission_type":"URGENT"}}]}"#]
        for hour in 1...4 {
            events.append(#"{"name":"labevents","time":"2100-01-01 0\#(hour):00:00","admission":"h1","records":["#
                + #"{"items":{"item_name":"Kreatinin i serum","value":"1.1","loinc":"2160-0"}},"#
                + #"{"items":{"item_name":"Polydipsia","value":"x","loinc":"9999-9"}}]}"#)
            events.append(#"{"name":"prescriptions","time":"2100-01-01 0\#(hour):30:00","admission":"h1","records":["#
                + #"{"items":{"drug":"Glucophage XR","rxnorm":"860975"}}]}"#)
        }
        let timelines = try small.write("coded.jsonl", #"{"patient":"p1","events":[\#(events.joined(separator: ","))]}"# + "\n")
        let run = try small.makeRun("run", timelines: timelines)
        for arguments in [["extract", "--run", run, "--lexicon", small.lexicon, "--quiet"], ["extract", "merge", "--run", run]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        let text = try String(contentsOfFile: run + "/extract.jsonl", encoding: .utf8)
        #expect(text.contains(#"{"concept":"LOINC:2160-0","name":"Creatinine [Mass/volume] in Serum or Plasma","surface":"Kreatinin i serum","link":"code""#), "\(text)")
        #expect(text.contains(#"{"concept":"RXNORM:860975","#) && text.contains(#""surface":"Glucophage XR","link":"code""#), "\(text)")
        // A LOINC code the lexicon does not have: the name decides.
        #expect(text.contains(#"{"concept":"HP:0001959","name":"Polydipsia","surface":"Polydipsia","link":"exact""#), "\(text)")
    }

    @Test func aBrokenModuleIsNamed() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let hpo = try small.write("hp.obo", "format-version: 1.2\nontology: hp\n\n[Term]\nid: HP:0001959\nname: Polydipsia\n\n")
        for (text, message) in [("{\"states\": {\"A\": {\"type\": \"ConditionOnset\", \"codes\": [{\"system\": \"SNOMED-CT\", \"code\": \"1\"}]}}}", "states.A.codes[0]"),
                                ("{\"name\": \"x\"}", "field states"),
                                ("{\"states\": {\"B\": {\"type\": \"CallSubmodule\"}}}", "states.B.submodule"), ("{\"states\": ", "bad.json")] {
            try FileManager.default.createDirectory(atPath: small.folder + "/broken", withIntermediateDirectories: true)
            _ = try small.write("broken/bad.json", text)
            let built = try Thinkgraph.run(["lexicon", "build", "--out", small.lexicon, "--obo", hpo, "--synthea", small.folder + "/broken",
                                            "--quiet", "--force"])
            #expect(built.status != 0 && built.standardError.contains("bad.json") && built.standardError.contains(message),
                    "\(built.standardError)")
            #expect(!FileManager.default.fileExists(atPath: small.lexicon + "/manifest.json"))
        }
    }
}

