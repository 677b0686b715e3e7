import Foundation
import Testing
import TestSupport

/// `export llm4ehr` on a generated MIMIC-IV-shaped cohort with ICU tables
/// (Benchmarks/gen_mimic.py --icu), imported as a user would: the cohort,
/// the labels, the 48-hour window and the notes recomputed here from the
/// CSV files and HCUP's real CCS table.
@Suite(.serialized) struct LLM4EHRCLITests {
    static let codeMaps = LoopbackServer.repository.appendingPathComponent("Lexicons/downloads/code-maps").path
    static let hcup = codeMaps + "/ccs_dx_icd10cm_2019_1.csv"
    /// The benchmark's 25 phenotypes' CCS numbers, in label order (hcup_ccs_2015_definitions.yaml, names sorted).
    static let phenotypeCategories = ["157", "109", "100", "106", "158", "127", "238", "105", "108", "101", "50", "49", "53", "98", "55",
                                      "153", "99", "151", "133", "134", "130", "122", "131", "2", "249"]

    /// The rows of a CSV the generator wrote (quoted fields hold commas, never quotes).
    static func rows(_ path: String) throws -> [[String: String]] {
        // HCUP's files end lines with CRLF: one Character, which `\.isNewline` matches.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        func fields(_ line: String) -> [String] {
            var fields: [String] = [], current = "", quoted = false
            for character in line {
                if character == "\"" { quoted.toggle() } else if character == "," && !quoted { fields.append(current); current = "" } else { current.append(character) }
            }
            return fields + [current]
        }
        let header = fields(lines[0])
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, fields($0))) }
    }

    static func seconds(_ time: String) -> Double {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.date(from: time)!.timeIntervalSince1970
    }

    static func cohort(_ small: SmallRun, icu: Bool = true) throws -> (cohort: String, run: String) {
        let cohort = small.folder + "/cohort"
        let generator = LoopbackServer.repository.appendingPathComponent("Benchmarks/gen_mimic.py").path
        let generated = try Shell.run(["python3", generator, cohort + "/hosp", "30000", "120", "--full", "0.3"] + (icu ? ["--icu", "0.6"] : []))
        try #require(generated.status == 0, "\(generated.errors)")
        let run = small.folder + "/run"
        let imported = try Thinkgraph.run(["import", "mimic", "--hosp", cohort + "/hosp", "--note", cohort + "/note", "--run", run, "--quiet"]
                                          + (icu ? ["--icu", cohort + "/icu"] : []))
        try #require(imported.status == 0, "\(imported.standardError)")
        return (cohort, run)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: hcup), "the HCUP CCS table (Lexicons/fetch-open-vocabularies.sh) is missing"))
    func theEpisodesFollowTheRecordAndNothingAfterTheWindow() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let (cohort, run) = try Self.cohort(small)
        let samples = try Thinkgraph.run(["samples", "--run", run, "--test-fraction", "0.3", "--json"])
        try #require(samples.status == 0, "\(samples.standardError)")
        let exported = try Thinkgraph.run(["export", "llm4ehr", "--run", run, "--code-maps", Self.codeMaps, "--json",
                                           "--samples-run", small.folder + "/icu-run"])
        try #require(exported.status == 0, "\(exported.standardError)")

        // The record, read here.
        let stays = try Self.rows(cohort + "/icu/icustays.csv")
        let died = Dictionary(uniqueKeysWithValues: try Self.rows(cohort + "/hosp/admissions.csv").map { ($0["hadm_id"]!, $0["hospital_expire_flag"] == "1") })
        let staysPerAdmission = Dictionary(grouping: stays, by: { $0["hadm_id"]! }).mapValues(\.count)
        var category: [String: String] = [:]
        for row in try Self.rows(Self.hcup) { category[row["'ICD-10-CM CODE'"]!.replacingOccurrences(of: "'", with: "")] = row["'CCS CATEGORY'"]!.replacingOccurrences(of: "'", with: "").trimmingCharacters(in: .whitespaces) }
        let diagnoses = Dictionary(grouping: try Self.rows(cohort + "/hosp/diagnoses_icd.csv"), by: { $0["hadm_id"]! })
        let heartRates = Dictionary(grouping: try Self.rows(cohort + "/icu/chartevents.csv").filter { $0["itemid"] == "220045" }, by: { $0["stay_id"]! })
        let radiology = Dictionary(grouping: try Self.rows(cohort + "/note/radiology.csv"), by: { $0["hadm_id"]! })
        let sampleSplits = Dictionary(try InstructCLITests.jsonLines(run + "/samples.jsonl").map { ($0["patient"] as! String, $0["split"] as! String) },
                                      uniquingKeysWith: { first, _ in first })

        for (task, hours) in [("ihm", 48.0), ("pheno", 24.0)] {
            let episodes = try InstructCLITests.jsonLines(run + "/llm4ehr/\(task).jsonl")
            let expected = stays.filter { stay in
                staysPerAdmission[stay["hadm_id"]!] == 1 && stay["first_careunit"] == stay["last_careunit"]
                    && Self.seconds(stay["outtime"]!) - Self.seconds(stay["intime"]!) >= hours * 3600
            }
            #expect(Set(episodes.map { $0["name"] as! String }) == Set(expected.map { "\($0["subject_id"]!)_\($0["stay_id"]!)" }), "\(task)")
            #expect(episodes.count > 5, "\(task): too few episodes to prove anything")
            for episode in episodes {
                let stay = try #require(stays.first { $0["stay_id"] == episode["stay"] as? String })
                let admission = stay["hadm_id"]!, start = Self.seconds(stay["intime"]!)
                if let split = sampleSplits[episode["patient"] as! String] { #expect(episode["split"] as? String == split) }
                // Labels.
                if task == "ihm" {
                    #expect((episode["label"] as? Int) == (died[admission]! ? 1 : 0))
                } else {
                    let categories = Set((diagnoses[admission] ?? []).compactMap { category[$0["icd_code"]!] })
                    #expect(episode["label"] as? [Int] == Self.phenotypeCategories.map { categories.contains($0) ? 1 : 0 })
                }
                // Nothing at or after the window's end.
                let times = episode["ts_tt"] as! [Double], noteTimes = episode["text_time"] as! [Double]
                #expect(times.allSatisfy { $0 >= 0 && $0 < hours } && noteTimes.allSatisfy { $0 >= 0 && $0 < hours })
                #expect((episode["reg_ts"] as! [[Double]]).count == Int(hours))
                // The heart rate as charted in the window, hour by hour.
                let charted = (heartRates[stay["stay_id"]!] ?? []).map { ((Self.seconds($0["charttime"]!) - start) / 3600, Double($0["valuenum"]!)!) }
                    .filter { $0.0 < hours }
                let series = zip(times, (episode["irg_ts"] as! [[Any]]).map { $0[8] as? Double }).compactMap { time, value in value.map { (time, $0) } }
                #expect(series.map(\.1) == charted.map(\.1) && zip(series, charted).allSatisfy { abs($0.0 - $1.0) < 1e-6 })
                // The window's radiology reports, and never a discharge summary.
                let notes = (radiology[admission] ?? []).filter { (Self.seconds($0["charttime"]!) - start) / 3600 < hours && Self.seconds($0["charttime"]!) >= start }
                #expect((episode["text_data"] as! [String]) == notes.map { $0["text"]! })
            }
        }
        // The same episodes as reasoning samples in a run of their own: the
        // context is the window (and the admission), the target the discharge's diagnoses.
        let icuRun = small.folder + "/icu-run"
        let patients = Dictionary(uniqueKeysWithValues: try InstructCLITests.jsonLines(icuRun + "/patients.jsonl").map { ($0["patient"] as! String, $0["events"] as! [[String: Any]]) })
        let reasoningSamples = try InstructCLITests.jsonLines(icuRun + "/samples.jsonl")
        var episodesByName: [String: [String: Any]] = [:]
        for task in ["ihm", "pheno"] {
            for episode in try InstructCLITests.jsonLines(run + "/llm4ehr/\(task).jsonl") { episodesByName["llm4ehr_\(task):" + (episode["patient"] as! String)] = episode }
        }
        #expect(reasoningSamples.count > 10)
        for sample in reasoningSamples {
            let task = sample["task"] as! String, patient = sample["patient"] as! String
            let episode = try #require(episodesByName[task + ":" + patient])
            let events = try #require(patients[patient])
            let end = Self.seconds(episode["intime"] as! String) + Double(episode["hours"] as! Int) * 3600
            for index in sample["context_events"] as! [Int] where events[index]["name"] as? String != "admissions" {
                #expect(Self.seconds(events[index]["time"] as! String) < end, "\(sample["id"]!): a context event after the window")
            }
            #expect(events[sample["target_event"] as! Int]["name"] as? String == "diagnoses_icd")
            if task == "llm4ehr_ihm" {
                #expect(sample["targets"] as? [String] == [(episode["label"] as! Int) == 1 ? "died in hospital" : "survived to discharge"])
            } else {
                #expect(((sample["targets"] as? [String]) ?? []).count <= (episode["label"] as! [Int]).reduce(0, +))
            }
        }
        // The later stages take the new run as any other.
        let obo = try small.write("mini.obo", TestOntology.clinical)
        for arguments in [["lexicon", "build", "--out", small.lexicon, "--obo", obo, "--quiet"],
                          ["extract", "--run", icuRun, "--lexicon", small.lexicon, "--quiet"], ["extract", "merge", "--run", icuRun],
                          ["cooccur", "--run", icuRun, "--quiet"], ["cooccur", "merge", "--run", icuRun],
                          ["evidence", "--run", icuRun, "--lexicon", small.lexicon, "--quiet"], ["evidence", "merge", "--run", icuRun]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        let dryRun = try Thinkgraph.run(["reason", "--run", icuRun, "--dry-run", "--model", "gpt-4o", "--template", "ehr-r1-without-knowledge"])
        #expect(dryRun.status == 0, "\(dryRun.standardError)")
        let requests = try String(contentsOfFile: icuRun + "/reason-requests/chunk-0000-of-0001.jsonl", encoding: .utf8)
        #expect(requests.contains("first 48 hours of this ICU stay") && requests.contains("first 24 hours of this ICU stay"))

        let stats = try #require(try JSONSerialization.jsonObject(with: Data(exported.standardOutput.utf8)) as? [String: Any])
        let ihm = try #require((stats["tasks"] as? [String: Any])?["ihm"] as? [String: Any])
        #expect((ihm["deaths"] as? Int ?? 0) > 0, "some stays end in death")
        #expect(((ihm["excluded"] as? [String: Int]) ?? [:])["shorter_than_window"] ?? 0 > 0)
    }

    @Test func aRunWithoutICUTablesOrWithABadVariableFileStopsWithItsReason() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let (_, run) = try Self.cohort(small, icu: false)
        let bare = try Thinkgraph.run(["export", "llm4ehr", "--run", run, "--task", "ihm"])
        #expect(bare.status != 0 && bare.standardError.contains("no ICU stays") && bare.standardError.contains("--icu"))
        #expect(!FileManager.default.fileExists(atPath: run + "/llm4ehr/ihm.jsonl"))
        try FileManager.default.createDirectory(atPath: small.folder + "/occupied", withIntermediateDirectories: true)
        _ = try small.write("occupied/samples.jsonl", "")
        let taken = try Thinkgraph.run(["export", "llm4ehr", "--run", run, "--task", "ihm", "--samples-run", small.folder + "/occupied"])
        #expect(taken.status != 0 && taken.standardError.contains("already a run folder with samples"))
        let noMaps = try Thinkgraph.run(["export", "llm4ehr", "--run", run])
        #expect(noMaps.status != 0 && noMaps.standardError.contains("--code-maps"))
        let variables = try small.write("variables.tsv", "variable\tnormal\toutlier_low\tvalid_low\tvalid_high\toutlier_high\tconversion\tsources\n"
                                        + "Heart Rate\t86\t0\t0\t350\t390\tnumber\tchartevents\n")
        let bad = try Thinkgraph.run(["export", "llm4ehr", "--run", run, "--task", "ihm", "--variables", variables])
        #expect(bad.status != 0 && bad.standardError.contains("variables.tsv:2") && bad.standardError.contains("sources"))
    }
}
