import Foundation
import Testing
import TGSupport
import TestSupport
@testable import EHR

@Suite struct MIMICImportTests {
    func importAll(_ folder: String, mode: ImportMode = .strict) throws -> (ImportSummary, [Patient]) {
        let output = try JSONLinesWriter(path: folder + "/patients.jsonl")
        let rejects = try RejectLog(mode: mode, path: folder + "/rejects.jsonl")
        let importer = MIMICImporter()
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

    @Test func rowsOfTheWrongPatientOrImpossibleTimesAreRejected() throws {
        let folder = try MIMICFixture.write(replace: [
            "admissions": """
                subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,admission_location,discharge_location,insurance,language,marital_status,race,edregtime,edouttime,hospital_expire_flag
                10000032,22595853,2180-05-06 22:23:00,2180-05-07 17:15:00,,URGENT,P874LG,TRANSFER FROM HOSPITAL,HOME,Other,ENGLISH,WIDOWED,WHITE,2180-05-06 19:17:00,2180-05-06 23:30:00,0
                10000084,23052089,2160-11-21 01:56:00,2160-11-20 14:52:00,,EW EMER.,P6957U,WALK-IN/SELF REFERRAL,HOME HEALTH CARE,Medicare,ENGLISH,MARRIED,WHITE,2160-11-20 20:36:00,2160-11-21 03:20:00,0

                """,
            "diagnoses_icd": "subject_id,hadm_id,seq_num,icd_code,icd_version\n10000084,22595853,1,5723,9\nabc,22595853,1,5723,9\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (summary, _) = try importAll(folder, mode: .lenient)
        #expect(summary.rejectedByKind["wrong patient"] == 1, "\(summary.rejectedByKind)")
        #expect(summary.rejectedByKind["bad subject"] == 1, "\(summary.rejectedByKind)")
        let rejects = try String(contentsOfFile: folder + "/rejects.jsonl", encoding: .utf8)
        #expect(rejects.contains("is before the admission time"), "\(rejects)")
        #expect(rejects.contains("admission 22595853 belongs to patient 10000032, not 10000084"), "\(rejects)")
    }

    /// The ED and ICU modules in PhysioNet's column layout (MIMIC-IV-ED 2.2,
    /// MIMIC-IV icu 3.1), written by the test.
    static let ed: [String: String] = [
        "edstays": """
            subject_id,hadm_id,stay_id,intime,outtime,gender,race,arrival_transport,disposition
            10000032,22595853,33258284,2180-05-06 19:17:00,2180-05-06 23:30:00,F,WHITE,AMBULANCE,ADMITTED

            """,
        "triage": """
            subject_id,stay_id,temperature,heartrate,resprate,o2sat,sbp,dbp,pain,acuity,chiefcomplaint
            10000032,33258284,97.8,87,14,98,71,43,7,2,"Abd pain, Abdominal distention"

            """,
        "vitalsign": """
            subject_id,stay_id,charttime,temperature,heartrate,resprate,o2sat,sbp,dbp,rhythm,pain
            10000032,33258284,2180-05-06 20:00:00,98.1,85,16,97,90,50,,5

            """,
        "medrecon": """
            subject_id,stay_id,charttime,name,gsn,ndc,etc_rn,etccode,etcdescription
            10000032,33258284,2180-05-06 20:10:00,albuterol sulfate,28090,21695042308,1,5970,Asthma/COPD Therapy - Beta 2-Adrenergic Agents

            """,
        "pyxis": """
            subject_id,stay_id,charttime,med_rn,name,gsn_rn,gsn
            10000032,33258284,2180-05-06 21:00:00,1,Morphine,1,004489

            """,
        "diagnosis": """
            subject_id,stay_id,seq_num,icd_code,icd_version,icd_title
            10000032,33258284,1,R1084,10,Generalized abdominal pain

            """,
    ]
    static let icu: [String: String] = [
        "icustays": """
            subject_id,hadm_id,stay_id,first_careunit,last_careunit,intime,outtime,los
            10000032,22595853,39553978,Medical Intensive Care Unit (MICU),Medical Intensive Care Unit (MICU),2180-05-07 00:00:00,2180-05-07 12:00:00,0.5

            """,
        "d_items": """
            itemid,label,abbreviation,linksto,category,unitname,param_type,lownormalvalue,highnormalvalue
            220045,Heart Rate,HR,chartevents,Routine Vital Signs,bpm,Numeric,,
            225166,Potassium Chloride,Potassium Chloride,inputevents,Medications,mEq,Solution,,
            226559,Foley,Foley,outputevents,Output,mL,Numeric,,

            """,
        "chartevents": """
            subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valuenum,valueuom,warning
            10000032,22595853,39553978,1,2180-05-07 01:00:00,2180-05-07 01:05:00,220045,91,91,bpm,0

            """,
        "inputevents": """
            subject_id,hadm_id,stay_id,caregiver_id,starttime,endtime,storetime,itemid,amount,amountuom,rate,rateuom,orderid,linkorderid,ordercategoryname
            10000032,22595853,39553978,1,2180-05-07 02:00:00,2180-05-07 03:00:00,2180-05-07 02:01:00,225166,10,mEq,10,mEq/hour,1,1,Drug Additives

            """,
        "outputevents": """
            subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valueuom
            10000032,22595853,39553978,1,2180-05-07 04:00:00,2180-05-07 04:05:00,226559,250,ml

            """,
    ]

    static func writeModule(_ tables: [String: String], to folder: String, replace: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in tables { try (replace[name] ?? text).write(toFile: "\(folder)/\(name).csv", atomically: true, encoding: .utf8) }
    }

    func importModules(_ folder: String) throws -> [Patient] {
        let output = try JSONLinesWriter(path: folder + "/patients.jsonl")
        let rejects = try RejectLog(mode: .strict, path: folder + "/rejects.jsonl")
        _ = try MIMICImporter().run(.init(hosp: folder + "/hosp", icu: folder + "/icu", ed: folder + "/ed", note: folder + "/note"),
                                    output: output, rejects: rejects)
        try rejects.commit()
        try output.commit()
        let reader = try TimelineReader(path: folder + "/patients.jsonl")
        var patients: [Patient] = []
        while let patient = try reader.next() { patients.append(patient) }
        return patients
    }

    @Test func readsTheEDAndICUModules() throws {
        let folder = try MIMICFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.writeModule(Self.ed, to: folder + "/ed")
        try Self.writeModule(Self.icu, to: folder + "/icu")
        let patient = try #require(try importModules(folder).first { $0.id == "10000032" })
        func event(_ name: String) -> Event? { patient.events.first { $0.name == name } }
        // Triage at the ED stay's start, ED diagnoses at its end, both with
        // the stay's admission.
        #expect(event("triage")?.time == Timestamp(parsing: "2180-05-06 19:17:00"))
        #expect(event("triage")?.admission == "22595853")
        #expect(event("triage")?.records[0]["chiefcomplaint"] == .string("Abd pain, Abdominal distention"))
        #expect(event("diagnosis")?.time == Timestamp(parsing: "2180-05-06 23:30:00"))
        #expect(event("diagnosis")?.records[0]["icd_title"] == .string("Generalized abdominal pain"))
        #expect(event("medrecon")?.records[0]["name"] == .string("albuterol sulfate"))
        #expect(event("pyxis")?.records[0]["name"] == .string("Morphine"))
        #expect(event("vitalsign")?.records[0]["heartrate"] == .number(85))
        // ICU items named from d_items.
        #expect(event("chartevents")?.records[0]["item_name"] == .string("Heart Rate"))
        #expect(event("inputevents")?.records[0]["item_name"] == .string("Potassium Chloride"))
        #expect(event("outputevents")?.records[0]["item_name"] == .string("Foley"))
        // Their tasks make samples (with the context-size rule opened up).
        let tasks = try TaskSet.standard().tasks.map { task in
            var task = task
            task.minContextEvents = 0
            return task
        }
        let made = Set(SampleBuilder(tasks: tasks, testFraction: 0).samples(for: patient).map(\.task))
        #expect(made.isSuperset(of: ["medrecon", "pyxis", "diagnosis", "chartevents", "inputevents", "outputevents"]), "\(made.sorted())")
        // And render with the reference's titles.
        let renderer = TimelineRenderer(format: try TaskSet.standard().format)
        #expect(renderer.render(try #require(event("triage"))).hasPrefix("## Triage [2180-05-06 19:17:00]\n- Temperature: 97.8\n- Heartrate: 87\n"))
        #expect(renderer.render(try #require(event("chartevents"))) == "## Chart Events [2180-05-07 01:00:00]\n- Item_Name: Heart Rate\n- Value: 91\n- Valueuom: bpm\n- Warning: 0\n")
    }

    @Test func anEDOrICUTableWithAWrongColumnIsNamed() throws {
        for (module, table, text, field) in [
            ("ed", "pyxis", "subject_id,stay_id,charttime,medication\n10000032,33258284,2180-05-06 21:00:00,Morphine\n", "name"),
            ("icu", "chartevents", "subject_id,hadm_id,stay_id,charttime,itemid,value,valueuom,warning\n10000032,1,1,2180-05-07 01:00:00,220045,91,bpm,0\n", "valuenum"),
        ] {
            let folder = try MIMICFixture.write()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try Self.writeModule(Self.ed, to: folder + "/ed", replace: module == "ed" ? [table: text] : [:])
            try Self.writeModule(Self.icu, to: folder + "/icu", replace: module == "icu" ? [table: text] : [:])
            do {
                _ = try importModules(folder)
                Issue.record("imported \(table)")
            } catch let error as InputError {
                #expect(error.file.hasSuffix("\(module)/\(table).csv") && error.line == 1 && error.field == field, "\(error)")
            }
        }
        // A row naming an ED stay that edstays does not have: file, line, field.
        let folder = try MIMICFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.writeModule(Self.ed, to: folder + "/ed", replace: ["pyxis": "subject_id,stay_id,charttime,med_rn,name,gsn_rn,gsn\n10000032,999,2180-05-06 21:00:00,1,Morphine,1,1\n"])
        try Self.writeModule(Self.icu, to: folder + "/icu")
        do {
            _ = try importModules(folder)
            Issue.record("imported")
        } catch let error as InputError {
            #expect(error.file.hasSuffix("ed/pyxis.csv") && error.line == 2 && error.field == "stay_id", "\(error)")
        }
    }
}
