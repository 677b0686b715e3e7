import Foundation
import Testing
import TGSupport
import TestSupport
@testable import EHR

/// CCS / ATC categories added at import for the `_ccs` and `_atc` tasks.
@Suite struct CodeMapTests {
    static let hcupDiagnoses = """
        'ICD-10-CM CODE','CCS CATEGORY','ICD-10-CM CODE DESCRIPTION','CCS CATEGORY DESCRIPTION','MULTI CCS LVL 1','MULTI CCS LVL 1 LABEL','MULTI CCS LVL 2','MULTI CCS LVL 2 LABEL'
        'G3183','653',"Dementia with Lewy bodies","Delirium dementia and amnestic and other cognitive disorders",'5',"Mental Illness",'5.4',"Delirium"

        """
    static let grouper = """
        Appendix A - Clinical Classification Software-DIAGNOSES

        151  Other liver diseases
             5723 5724
        155  Other gastrointestinal disorders
             78959

        """

    static func folder(_ files: [String: String]) throws -> String {
        let folder = NSTemporaryDirectory() + "tg-codemaps-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8) }
        return folder
    }

    @Test func hcupFilesGiveCategoryNumbersAndUserMapsNone() throws {
        let maps = try Self.folder(["ccs_dx_icd10cm_2019_1.csv": Self.hcupDiagnoses, "CCS-SingleDiagnosisGrouper.txt": Self.grouper,
                                    "own.tsv": "system\tcode\tlabel\nICD10-DX\tA419\tSepsis\n"])
        defer { try? FileManager.default.removeItem(atPath: maps) }
        let loaded = try CodeMaps.load(folder: maps)
        #expect(loaded.category("G31.83", .icd10Diagnosis) == "653")
        #expect(loaded.category("5724", .icd9Diagnosis) == "151")
        #expect(loaded.category("78959", .icd9Diagnosis) == "155")
        #expect(loaded.label("A419", .icd10Diagnosis) == "Sepsis")
        #expect(loaded.category("A419", .icd10Diagnosis) == nil)
        #expect(loaded.categoryCount(.icd10Diagnosis) == 1 && loaded.categoryCount(.icd9Diagnosis) == 3)
        #expect(CodeMaps.diagnosisSystem(icdVersion: "9") == .icd9Diagnosis)
        #expect(CodeMaps.diagnosisSystem(icdVersion: "11") == nil)
    }

    @Test func importAddsCategoriesThatTheMappedTasksPredict() throws {
        let maps = try Self.folder(["ccs_dx_icd10cm_2019_1.csv": Self.hcupDiagnoses, "CCS-SingleDiagnosisGrouper.txt": Self.grouper,
                                    "atc.tsv": "system\tcode\tlabel\nNDC\t51079007320\tHigh-ceiling diuretics\n"])
        defer { try? FileManager.default.removeItem(atPath: maps) }
        let folder = try MIMICFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = try JSONLinesWriter(path: folder + "/patients.jsonl")
        var importer = MIMICImporter()
        importer.codeMaps = try CodeMaps.load(folder: maps)
        _ = try importer.run(.init(hosp: folder + "/hosp", note: folder + "/note"), output: output,
                             rejects: try RejectLog(mode: .strict, path: folder + "/rejects.jsonl"))
        try output.commit()
        let reader = try TimelineReader(path: folder + "/patients.jsonl")
        var patients: [Patient] = []
        while let patient = try reader.next() { patients.append(patient) }
        let first = try #require(patients.first { $0.id == "10000032" })
        let diagnoses = try #require(first.events.first { $0.name == "diagnoses_icd" })
        #expect(diagnoses.records.map { $0["ccs_type"] } == [.string("Other liver diseases"), .string("Other gastrointestinal disorders")])
        let drug = try #require(first.events.first { $0.name == "prescriptions" })
        #expect(drug.records[0]["atc_type"] == .string("High-ceiling diuretics"))
        let other = try #require(patients.first { $0.id == "10000084" })
        #expect(other.events.first { $0.name == "diagnoses_icd" }?.records[0]["ccs_type"]
                == .string("Delirium dementia and amnestic and other cognitive disorders"))

        // The mapped tasks predict the categories; the context shows them.
        let standard = try TaskSet.standard()
        let tasks = standard.tasks.map { task in
            var task = task
            task.minContextEvents = 0
            return task
        }
        let samples = SampleBuilder(tasks: tasks, testFraction: 0).samples(for: first)
        #expect(samples.first { $0.task == "diagnoses_ccs" }?.targets == ["Other liver diseases", "Other gastrointestinal disorders"])
        #expect(samples.first { $0.task == "prescriptions_atc" }?.targets == ["High-ceiling diuretics"])
        let rendered = TimelineRenderer(format: standard.format).render(diagnoses)
        #expect(rendered.contains("| Diagnoses | CCS Type |\n| ------ | ------ |\n| Portal hypertension | Other liver diseases |"), "\(rendered)")
    }

    @Test func badMapsAreNamedByFileLineAndField() throws {
        for (files, field, line) in [
            (["x.tsv": "system\tcode\tlabel\nICD11\tA00\tCholera\n"], "system", 2),
            (["x.tsv": "system\tcode\tlabel\nNDC\t\tSomething\n"], "code", 2),
            (["ccs_dx_icd10cm_x.csv": "'ICD-10-CM CODE','CCS CATEGORY DESCRIPTION'\n'A00',''\n"], "'CCS CATEGORY DESCRIPTION'", 2),
            (["ccs_dx_icd10cm_x.csv": "'CODE','CCS CATEGORY DESCRIPTION'\n'A00','Cholera'\n"], "'ICD-10-CM CODE'", 1),
        ] {
            let folder = try Self.folder(files)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            do {
                _ = try CodeMaps.load(folder: folder)
                Issue.record("loaded \(files)")
            } catch let error as InputError {
                #expect(error.field == field && error.line == line, "\(error)")
            }
        }
        let empty = try Self.folder(["readme.txt": "nothing here"])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: InputError.self) { try CodeMaps.load(folder: empty) }
    }

    /// The real tables from PyPI (Lexicons/fetch-open-vocabularies.sh).
    static let downloads = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Lexicons/downloads/code-maps").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: downloads + "/ccs_pr_icd10pcs_2019_1.csv"),
                   "the CCS tables are not fetched: bash Lexicons/fetch-open-vocabularies.sh"))
    func theRealTablesLoad() throws {
        let maps = try CodeMaps.load(folder: Self.downloads)
        #expect(maps.count(.icd10Diagnosis) > 70_000 && maps.count(.icd10Procedure) > 70_000 && maps.count(.icd9Diagnosis) > 14_000)
        #expect(maps.label("G31.83", .icd10Diagnosis) == "Delirium dementia and amnestic and other cognitive disorders")
        #expect(maps.label("5723", .icd9Diagnosis) == "Other liver diseases")
        #expect(maps.label("0DQ10ZZ", .icd10Procedure) == "Other OR upper GI therapeutic procedures")
    }
}
