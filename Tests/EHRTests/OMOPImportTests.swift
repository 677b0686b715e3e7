import Foundation
import Testing
import TGSupport
@testable import EHR
import TestSupport

/// `import omop`: an OMOP CDM export's tables as timelines, concept ids
/// resolved through `concept`, v5.3 and v5.4 names, commas or tabs, and
/// every bad input named.
@Suite struct OMOPImportTests {
    /// A small CDM v5.4 export: two persons, one dead; a visit with a
    /// condition (SNOMED standard, ICD-10-CM source), a drug, a lab value,
    /// a discharge note; the vocabulary rows they use.
    static let tables: [String: [String]] = [
        "concept": [
            "concept_id,concept_name,domain_id,vocabulary_id,concept_class_id,standard_concept,concept_code,valid_start_date,valid_end_date,invalid_reason",
            "8507,MALE,Gender,Gender,Gender,S,M,1970-01-01,2099-12-31,",
            "8532,FEMALE,Gender,Gender,Gender,S,F,1970-01-01,2099-12-31,",
            "9201,Inpatient Visit,Visit,Visit,Visit,S,IP,1970-01-01,2099-12-31,",
            "8870,Emergency Room - Hospital,Place of Service,CMS Place of Service,Place of Service,S,23,1970-01-01,2099-12-31,",
            "320128,Essential hypertension,Condition,SNOMED,Clinical Finding,S,59621000,1970-01-01,2099-12-31,",
            "35207668,Essential (primary) hypertension,Condition,ICD10CM,4-char billing code,,I10,1970-01-01,2099-12-31,",
            "1308216,lisinopril 10 MG Oral Tablet,Drug,RxNorm,Clinical Drug,S,314076,1970-01-01,2099-12-31,",
            "3004249,Systolic blood pressure,Measurement,LOINC,Clinical Observation,S,8480-6,1970-01-01,2099-12-31,",
            "8876,millimeter mercury column,Unit,UCUM,Unit,S,mm[Hg],1970-01-01,2099-12-31,",
            "4112853,Malignant tumor of breast,Condition,SNOMED,Clinical Finding,S,254837009,1970-01-01,2099-12-31,",
            "44814637,Discharge summary,Note,Note Type,Note Type,S,DS,1970-01-01,2099-12-31,",
        ],
        "person": [
            "person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth,birth_datetime,race_concept_id,ethnicity_concept_id,person_source_value,gender_source_value,race_source_value",
            "1,8507,1950,3,4,,0,0,p-1,M,White",
            "2,8532,1961,,,,0,0,p-2,F,",
        ],
        "death": [
            "person_id,death_date,death_datetime,death_type_concept_id,cause_concept_id",
            "2,2024-06-01,,32817,4112853",
        ],
        "visit_occurrence": [
            "visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_start_datetime,visit_end_date,visit_end_datetime,visit_type_concept_id,visit_source_value,admitted_from_concept_id,discharged_to_concept_id",
            "10,1,9201,2024-01-05,2024-01-05 08:00:00,2024-01-09,2024-01-09 12:00:00,32817,IP,8870,0",
        ],
        "condition_occurrence": [
            "condition_occurrence_id,person_id,condition_concept_id,condition_start_date,condition_start_datetime,condition_type_concept_id,visit_occurrence_id,condition_source_value,condition_source_concept_id",
            "100,1,320128,2024-01-05,2024-01-05 09:00:00,32817,10,I10,35207668",
            "101,2,4112853,2023-02-01,,32817,,C50.9,0",
        ],
        "drug_exposure": [
            "drug_exposure_id,person_id,drug_concept_id,drug_exposure_start_date,drug_exposure_start_datetime,drug_exposure_end_date,drug_type_concept_id,quantity,days_supply,sig,visit_occurrence_id,drug_source_value,drug_source_concept_id",
            "200,1,1308216,2024-01-05,2024-01-05 10:00:00,2024-01-09,32817,30,30.0,\"one daily, by mouth\",10,lisinopril 10mg,0",
        ],
        "measurement": [
            "measurement_id,person_id,measurement_concept_id,measurement_date,measurement_datetime,measurement_type_concept_id,operator_concept_id,value_as_number,value_as_concept_id,unit_concept_id,range_low,range_high,visit_occurrence_id,measurement_source_value,unit_source_value",
            "300,1,3004249,2024-01-05,2024-01-05 08:30:00,32817,,162,,8876,90,140,10,SBP,mmHg",
        ],
        "note": [
            "note_id,person_id,note_date,note_datetime,note_type_concept_id,note_class_concept_id,note_title,note_text,encoding_concept_id,language_concept_id,visit_occurrence_id",
            "400,1,2024-01-09,2024-01-09 12:00:00,44814637,0,Discharge summary,\"Admitted for hypertensive urgency.\nDischarged home on lisinopril.\",0,0,10",
        ],
    ]

    static func write(_ tables: [String: [String]], delimiter: String = ",", gzip: Bool = false, upper: Bool = false) throws -> String {
        let folder = NSTemporaryDirectory() + "tg-omop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/cdm", withIntermediateDirectories: true)
        for (name, lines) in tables {
            var lines = lines
            if upper { lines[0] = lines[0].uppercased() }
            if delimiter != "," {
                // Only this fixture's quoted fields hold commas: swap outside quotes.
                lines = lines.map { line in
                    var inQuotes = false
                    return String(line.map { character -> Character in
                        if character == "\"" { inQuotes.toggle() }
                        return character == "," && !inQuotes ? Character(delimiter) : character
                    })
                }
            }
            let path = "\(folder)/cdm/\(upper ? name.uppercased() : name).\(delimiter == "," ? "csv" : "tsv")"
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            if gzip {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/gzip")
                process.arguments = [path]
                try process.run()
                process.waitUntilExit()
            }
        }
        return folder
    }

    static func importFolder(_ folder: String, mode: ImportMode = .strict) throws -> (ImportSummary, [Patient], String) {
        try ImportHarness.run(in: folder, mode: mode) { output, rejects in try OMOPImporter().run(folder: folder + "/cdm", output: output, rejects: rejects) }
    }

    static func record(_ patient: Patient, _ event: String) throws -> Record {
        try #require(patient.events.first { $0.name == event }?.records.first, "no \(event) event")
    }

    @Test func tablesBecomeTimelinesWithTheirConcepts() throws {
        let folder = try Self.write(Self.tables)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (summary, patients, _) = try Self.importFolder(folder)
        #expect(summary.rejected == 0 && summary.patients == 2 && summary.warnings.isEmpty)
        #expect(summary.rowsByKind == ["person": 2, "death": 1, "visit_occurrence": 1, "condition_occurrence": 2, "drug_exposure": 1,
                                       "measurement": 1, "note": 1])
        let first = try #require(patients.first { $0.id == "1" })
        #expect(first.statics.map { "\($0.key)=\($0.value)" } == ["gender=MALE", "birth_date=1950-03-04", "race=White"])
        let second = try #require(patients.first { $0.id == "2" })
        #expect(second.statics.map { "\($0.key)=\($0.value)" }
                == ["gender=FEMALE", "year_of_birth=1961", "dod=2024-06-01", "cause_of_death=Malignant tumor of breast"])

        let visit = try Self.record(first, "admissions")
        #expect(visit["admission_type"] == .string("Inpatient Visit"))
        #expect(visit["admission_location"] == .string("Emergency Room - Hospital"))
        #expect(visit["discharge_location"] == nil, "concept 0 is no concept")
        #expect(visit["dischtime"] == .string("2024-01-09 12:00:00"))
        let condition = try Self.record(first, "condition_occurrence")
        #expect(condition.items.map { "\($0.key)=\($0.value)" } == [
            "condition=Essential hypertension", "omop_code=SNOMED/59621000", "code=59621000", "code_system=SNOMED CT",
            "icd_code=I10", "icd_version=10", "source_value=I10",
        ])
        let drug = try Self.record(first, "drug_exposure")
        #expect(drug["drug"] == .string("lisinopril 10 MG Oral Tablet") && drug["rxnorm"] == .string("314076"))
        #expect(drug["source_value"] == .string("lisinopril 10mg") && drug["days_supply"] == .integer(30))
        #expect(drug["sig"] == .string("one daily, by mouth") && drug["quantity"] == .number(30))
        let measurement = try Self.record(first, "measurement")
        #expect(measurement.items.map { "\($0.key)=\($0.value)" } == [
            "measurement=Systolic blood pressure", "omop_code=LOINC/8480-6", "code=8480-6", "code_system=LOINC", "loinc=8480-6",
            "source_value=SBP", "valuenum=162", "value=162", "unit=mm[Hg]", "range_low=90", "range_high=140",
        ])
        let note = try #require(first.events.first { $0.name == "discharge" })
        #expect(note.text == "Admitted for hypertensive urgency.\nDischarged home on lisinopril." && note.admission == "10")
        // Events keep their visit; a condition without one has none.
        #expect(first.events.allSatisfy { $0.admission == "10" })
        #expect(try #require(second.events.first).admission == nil)
        #expect(try Self.record(second, "condition_occurrence")["source_value"] == .string("C50.9"))
        // Times: the datetime, else the date at midnight.
        #expect(try #require(second.events.first).time == Timestamp(year: 2023, month: 2, day: 1))
    }

    @Test func tabsGzipUpperCaseAndTheV53NamesGiveTheSameTimelines() throws {
        var tables = Self.tables
        tables["visit_occurrence"]![0] = tables["visit_occurrence"]![0]
            .replacingOccurrences(of: "admitted_from_concept_id", with: "admitting_source_concept_id")
            .replacingOccurrences(of: "discharged_to_concept_id", with: "discharge_to_concept_id")
        let plain = try Self.write(Self.tables)
        let other = try Self.write(tables, delimiter: "\t", gzip: true, upper: true)
        defer { for folder in [plain, other] { try? FileManager.default.removeItem(atPath: folder) } }
        let (_, expected, _) = try Self.importFolder(plain)
        let (summary, patients, _) = try Self.importFolder(other)
        #expect(summary.rejected == 0)
        #expect(patients.map(\.statics) == expected.map(\.statics))
        #expect(patients.map { $0.events.map(\.records).map { $0.map(\.items) } } == expected.map { $0.events.map(\.records).map { $0.map(\.items) } })
        #expect(patients.map { $0.events.map(\.text) } == expected.map { $0.events.map(\.text) })
    }

    @Test func aConceptIdMissingFromConceptIsNamedOrRejected() throws {
        var tables = Self.tables
        tables["measurement"]!.append("301,1,3004249,2024-01-05,2024-01-05 09:30:00,32817,,150,,999999,90,140,10,SBP,mmHg")
        let folder = try Self.write(tables)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect {
            _ = try Self.importFolder(folder)
        } throws: { error in
            "\(error)".contains("measurement.csv:3") && "\(error)".contains("unit_concept_id")
                && "\(error)".contains("concept 999999 is not in concept.csv")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/patients.jsonl"), "a failed strict import wrote a timeline")
        let (summary, patients, rejects) = try Self.importFolder(folder, mode: .lenient)
        #expect(summary.rejectedByKind == ["unknown concept": 1] && summary.rowsByKind["measurement"] == 1)
        #expect(rejects.contains("\"line\":3") && patients.count == 2)
    }

    @Test(arguments: [
        ("condition_occurrence", "condition_concept_id", "missing column"),
        ("person", "year_of_birth", "missing column"),
    ])
    func aMissingRequiredColumnIsNamed(table: String, column: String, message: String) throws {
        var tables = Self.tables
        tables[table]![0] = tables[table]![0].replacingOccurrences(of: column, with: "renamed")
        let folder = try Self.write(tables)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect {
            _ = try Self.importFolder(folder, mode: .lenient)
        } throws: { error in
            "\(error)".contains("\(table).csv:1") && "\(error)".contains(column) && "\(error)".contains(message)
        }
    }

    @Test func badValuesAreNamedByLineAndColumn() throws {
        var tables = Self.tables
        tables["measurement"]!.append("302,1,3004249,2024-13-05,,32817,,150,,8876,90,140,10,SBP,mmHg")
        tables["measurement"]!.append("303,1,3004249,2024-01-05,,32817,,high,,8876,90,140,10,SBP,mmHg")
        tables["measurement"]!.append("304,7,3004249,2024-01-05,,32817,,120,,8876,90,140,,SBP,mmHg")
        tables["death"]!.append("2,2024-06-02,,32817,0")
        let folder = try Self.write(tables)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (summary, _, rejects) = try Self.importFolder(folder, mode: .lenient)
        #expect(summary.rejectedByKind == ["bad time": 1, "bad value": 1, "duplicate": 1], "\(rejects)")
        #expect(summary.patientsWithoutRecord == 1, "person 7 has rows but no person row")
        #expect(rejects.contains("measurement_date") && rejects.contains("value_as_number"))
        // Strict: the first bad row stops the import (deaths are read first).
        #expect {
            _ = try Self.importFolder(folder)
        } throws: { error in "\(error)".contains("death.csv:3") && "\(error)".contains("a second death of person 2") }
    }

    @Test func withoutConceptRowsAreNamedBySourceValues() throws {
        var tables = Self.tables
        tables["concept"] = nil
        let folder = try Self.write(tables)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (summary, patients, _) = try Self.importFolder(folder)
        #expect(summary.rejected == 0 && summary.warnings.count == 1)
        let first = try #require(patients.first { $0.id == "1" })
        let condition = try Self.record(first, "condition_occurrence")
        #expect(condition["condition"] == .string("I10") && condition["omop_code"] == .string("OMOP/320128"))
        #expect(condition["code_system"] == nil, "no vocabulary is known without concept")
        #expect(first.statics.first == Item("gender", .string("OMOP/8507")))
    }

    @Test func aFolderWithoutPersonIsNamed() throws {
        var tables = Self.tables
        tables["person"] = nil
        let folder = try Self.write(tables)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect { _ = try Self.importFolder(folder) } throws: { "\($0)".contains("no person.csv") }
    }

    /// The OMOP sample written at set-up from a clinosim cohort
    /// (Pipelines/test-data.sh, Benchmarks/fhir_to_omop.py): imported
    /// strictly, every row of every table taken.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: OMOPSample.folder + "/person.csv"), "no OMOP sample (run Pipelines/test-data.sh)"))
    func theConvertedCohortImportsEveryRow() throws {
        let folder = NSTemporaryDirectory() + "tg-omop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder + "/cdm", withDestinationPath: OMOPSample.folder)
        let (summary, patients, _) = try Self.importFolder(folder)
        #expect(summary.rejected == 0 && summary.patientsWithoutRecord == 0)
        for table in OMOPTable.fileNames {
            let path = OMOPSample.folder + "/\(table).csv"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            // Rows: records, not lines (notes span lines); count with the reader.
            let csv = try CSVReader(path: path)
            var rows = 0
            while try csv.next() != nil { rows += 1 }
            #expect(summary.rowsByKind[table, default: 0] == rows, "\(table)")
        }
        #expect(patients.count == summary.rowsByKind["person"])
        let records = patients.flatMap(\.events).flatMap(\.records)
        #expect(records.contains { $0["code_system"] == .string("LOINC") } && records.contains { $0["rxnorm"] != nil })
    }
}
