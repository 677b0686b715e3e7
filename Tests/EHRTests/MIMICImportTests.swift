import Foundation
import Testing
import TGSupport
import TestSupport
@testable import EHR

@Suite struct MIMICImportTests {
    func importAll(_ folder: String, mode: ImportMode = .strict) throws -> (ImportSummary, [Patient]) {
        let output = try JSONLinesWriter(path: folder + "/patients.jsonl")
        let rejects = try RejectLog(mode: mode, path: folder + "/rejects.jsonl")
        var importer = MIMICImporter()
        importer.mode = mode
        let summary = try importer.run(.init(hosp: folder + "/hosp", note: folder + "/note"), output: output, rejects: rejects)
        try rejects.commit()
        try output.commit()
        let reader = try TimelineReader(path: folder + "/patients.jsonl")
        var patients: [Patient] = []
        while let patient = try reader.next() { patients.append(patient) }
        return (summary, patients)
    }

    @Test func readsTheRealColumnLayout() throws {
        let folder = try MIMICFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (summary, patients) = try importAll(folder)
        #expect(summary.rejected == 0)
        #expect(patients.map(\.id).sorted() == ["10000032", "10000084"])
        let patient = try #require(patients.first { $0.id == "10000032" })
        #expect(patient.statics == [Item("gender", .string("F")), Item("anchor_age", .integer(52)), Item("anchor_year", .integer(2180)),
                                    Item("anchor_year_group", .string("2014 - 2016")), Item("dod", .string("2180-09-09"))])
        let names = patient.events.map { "\($0.name) \($0.time)" }
        #expect(names == [
            "omr 2180-04-27 00:00:00",
            "microbiologyevents 2180-05-06 00:00:00",
            "transfers 2180-05-06 19:17:00",
            "radiology 2180-05-06 21:19:00",
            "admissions 2180-05-06 22:23:00",
            "transfers 2180-05-06 23:30:00",
            "services 2180-05-06 23:30:00",
            "poe 2180-05-06 23:42:05",
            "procedures_icd 2180-05-07 00:00:00",
            "prescriptions 2180-05-07 00:00:00",
            "discharge 2180-05-07 00:00:00",
            "labevents 2180-05-07 05:10:00",
            "emar 2180-05-07 09:05:00",
            "diagnoses_icd 2180-05-07 17:15:00",
            "transfers 2180-05-07 17:21:00",
        ], "\(names)")
        let labs = try #require(patient.events.first { $0.name == "labevents" })
        #expect(labs.records.count == 2)
        #expect(labs.records[0]["item_name"] == .string("Glucose") && labs.records[0]["valuenum"] == .number(95))
        #expect(labs.records[1]["comments"] == .string("HEMOLYZED, \"see note\"\nrepeat requested"))
        #expect(labs.records[1].source == "labevents.csv.gz:3")
        let diagnoses = try #require(patient.events.first { $0.name == "diagnoses_icd" })
        #expect(diagnoses.records.map { $0["long_title"] } == [.string("Portal hypertension"), .string("Other ascites")])
        let radiology = try #require(patient.events.first { $0.name == "radiology" })
        #expect(radiology.records[0]["exam_name"] == .string("CHEST (PA AND LAT)"))
        #expect(radiology.text?.hasSuffix("IMPRESSION: No acute process.") == true)
        let other = try #require(patients.first { $0.id == "10000084" })
        #expect(other.events.first { $0.name == "diagnoses_icd" }?.records[0]["long_title"]
            == .string("Dementia with Lewy bodies, \"probable\""))
        #expect(other.events.first { $0.name == "labevents" }?.admission == nil)
    }

    @Test func missingColumnsAreErrorsEvenWhenLenient() throws {
        let folder = try MIMICFixture.write(replace: ["labevents": "labevent_id,subject_id,charttime\n1,10000032,2180-05-07 05:10:00\n"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            _ = try importAll(folder, mode: .lenient)
            Issue.record("imported")
        } catch let error as InputError {
            #expect(error.file.hasSuffix("labevents.csv.gz") && error.line == 1 && error.field == "value")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/patients.jsonl"))
    }

    @Test func badRowsAreRejectedWithTheirReasons() throws {
        let folder = try MIMICFixture.write(replace: [
            "labevents": """
                labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments
                1,10000032,22595853,1,50931,,2180-02-30 05:10:00,,95,95,mg/dL,70,100,,ROUTINE,
                2,10000032,22595853,1,50931,,2180-05-07 05:10:00,,95,ninety,mg/dL,70,100,,ROUTINE,
                3,10000032,22595853,1,50931,,2180-05-07 05:10:00,,95,95,mg/dL
                4,,22595853,1,50931,,2180-05-07 05:10:00,,95,95,mg/dL,70,100,,ROUTINE,
                5,10000032,22595853,1,50931,,,,95,95,mg/dL,70,100,,ROUTINE,
                6,10000032,22595853,1,50931,,2180-05-07 05:10:00,,95,95,mg/dL,70,100,,ROUTINE,
                6,10000032,22595853,1,50931,,2180-05-07 05:10:00,,95,95,mg/dL,70,100,,ROUTINE,

                """,
            "diagnoses_icd": "subject_id,hadm_id,seq_num,icd_code,icd_version\n10000032,99999999,1,5723,9\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: InputError.self) { try importAll(folder, mode: .strict) }
        let (summary, patients) = try importAll(folder, mode: .lenient)
        #expect(summary.rejectedByKind == ["bad time": 1, "bad value": 1, "bad row": 1, "no subject": 1, "no time": 1,
                                           "duplicate": 1, "unknown admission": 1], "\(summary.rejectedByKind)")
        let labs = patients.first { $0.id == "10000032" }?.events.filter { $0.name == "labevents" }
        #expect(labs?.count == 1 && labs?.first?.records.count == 1)
        let rejects = try String(contentsOfFile: folder + "/rejects.jsonl", encoding: .utf8)
        #expect(rejects.contains(#""line":2,"field":"charttime","kind":"bad time""#), "\(rejects)")
        #expect(rejects.contains(#""line":4,"kind":"bad row","reason":"11 fields, the header has 16""#))
        #expect(rejects.contains(#""field":"labevents/6","kind":"duplicate","reason":"patient 10000032: duplicate resource or row (again at labevents.csv.gz:8)""#))
    }
}
