import Foundation
import Testing
import TGSupport
@testable import EHR
import TestSupport

extension FHIRFixture {
    static func importAll(_ folder: String, mode: ImportMode = .strict, partitions: Int? = nil) throws
        -> (ImportSummary, [Patient]) {
        let output = try JSONLinesWriter(path: folder + "/patients.jsonl")
        let rejects = try RejectLog(mode: mode, path: folder + "/rejects.jsonl")
        let importer = FHIRImporter()
        let summary = try importer.run(directory: folder + "/export", output: output, rejects: rejects)
        try rejects.commit()
        try output.commit()
        let reader = try TimelineReader(path: folder + "/patients.jsonl")
        var patients: [Patient] = []
        while let patient = try reader.next() { patients.append(patient) }
        return (summary, patients)
    }
}

@Suite struct FHIRImportTests {
    @Test func mapsAnExportIntoTimelines() throws {
        let folder = try FHIRFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (summary, patients) = try FHIRFixture.importAll(folder)
        #expect(summary.patients == 2 && summary.rejected == 0)
        #expect(summary.skippedByKind == ["Practitioner": 1])
        let patient = try #require(patients.first { $0.id == "pt-1" })
        #expect(patient.statics.map(\.key) == ["gender", "birth_date", "deceased", "race"])
        let rendered = TimelineRenderer().render(patient.events).text
        #expect(rendered.hasPrefix("""
            ## Admissions [2025-08-27 08:00:00]
            - admission_type: inpatient encounter
            - discharge_location: Home
            - dischtime: 2025-09-02 09:00:00

            ## Transfers [2025-08-27 08:00:00]
            - eventtype: admit
            - careunit: ED

            ## Services [2025-08-27 08:00:00]
            - curr_service: Internal Medicine

            ## Notes [2025-08-27 08:30:00]
            - note_type: History and physical note
            Subjective:
            Shortness of breath.
            Denies chest pain.

            ## Prescriptions [2025-08-27 08:34:00]
            - drug: Albuterol
            - rxnorm: 435
            - dose_val_rx: 2.5
            - dose_unit_rx: mg
            - route: INHALED

            ## Diagnoses ICD [2025-08-27 09:00:00]
            | icd_code | icd_version | long_title |
            | --- | --- | --- |
            | J44.1 | 10 | Chronic obstructive pulmonary disease with (acute) exacerbation |
            |  |  | Hypoxemia |

            ## Transfers [2025-08-27 10:00:00]
            - eventtype: transfer
            - careunit: Ward 4E

            ## Labevents [2025-08-27 10:00:00]
            | item_name | value | valuenum | valueuom | ref_range_lower | ref_range_upper | flag | loinc |
            | --- | --- | --- | --- | --- | --- | --- | --- |
            | Glucose | 182 | 182 | mg/dL | 70 | 99 | High | 2345-7 |
            | Sodium | 131.5 | 131.5 | mmol/L |  |  |  |  |

            ## OMR [2025-08-27 10:05:00]
            - result_name: Blood pressure panel
            - result_value: Systolic: 112 mm[Hg]; Diastolic: 62 mm[Hg]

            ## Discharge [2025-09-02 09:00:00]
            - note_type: Discharge summary
            Discharged home. No fever.
            Follow up in 7 days.

            """), "\(rendered)")
        // Every record names its resource.
        #expect(patient.events.allSatisfy { $0.records.allSatisfy { $0.source?.contains("/") == true } })
        #expect(patient.events.first { $0.name == "labevents" }?.records.map(\.source) == ["Observation/o-1", "Observation/o-2"])
    }

    @Test func partitionCountDoesNotChangeTheResult() throws {
        let folder = try FHIRFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let partitioner = try PatientPartitioner(scratch: folder, partitions: 7)
        let other = try PatientPartitioner(scratch: folder, partitions: 1)
        // A compact run's import writes its partitions as gzip members.
        let packed = try PatientPartitioner(scratch: folder, partitions: 7, compressed: true)
        var events: [(String, Event)] = []
        for patient in 0..<40 {
            for minute in stride(from: 50, to: 0, by: -7) {
                let event = Event(name: "labevents", time: Timestamp(year: 2100, month: 1, day: 1, minute: minute)!,
                                  records: [Record(items: [Item("item_name", .string("x\(minute)"))], source: "r\(patient)-\(minute)")])
                events.append(("p\(patient)", event))
            }
        }
        for (patient, event) in events {
            try partitioner.add(patient: patient, event: event)
            try other.add(patient: patient, event: event)
            try packed.add(patient: patient, event: event)
        }
        #expect(Set((try FileManager.default.contentsOfDirectory(atPath: partitioner.directory))).count > 1)
        var first: [String: Patient] = [:], second: [String: Patient] = [:], third: [String: Patient] = [:]
        try partitioner.forEachPatient({ first[$0.id] = $0 }, conflict: { _ in Issue.record("conflict") })
        try other.forEachPatient({ second[$0.id] = $0 }, conflict: { _ in Issue.record("conflict") })
        try packed.forEachPatient({ third[$0.id] = $0 }, conflict: { _ in Issue.record("conflict") })
        #expect(first.count == 40 && first == second && first == third)
        #expect(first["p3"]!.events.map(\.time) == first["p3"]!.events.map(\.time).sorted())
        // Each partition goes once its patients are out.
        #expect(try FileManager.default.contentsOfDirectory(atPath: partitioner.directory).isEmpty)
    }

    @Test func lenientModeRecordsEveryRejectWithItsReason() throws {
        let big = String(repeating: "x", count: 5 << 20)
        let folder = try FHIRFixture.write(extra: [
            "Condition.ndjson": [
                "{not json",
                #"{"resourceType":"Condition","id":"c-9","subject":{"reference":"Patient/pt-2"},"recordedDate":"2025-02-30","code":{"text":"x"}}"#,
                #"{"resourceType":"Condition","id":"c-1","subject":{"reference":"Patient/pt-1"},"encounter":{"reference":"Encounter/enc-1"},"recordedDate":"2025-08-27T09:00:00Z","code":{"text":"dup"}}"#,
                #"{"resourceType":"Condition","id":"c-8","recordedDate":"2025-01-01","code":{"text":"x"}}"#,
            ],
            "Weird.ndjson": [#"{"resourceType":"Spaceship","id":"s-1"}"#],
            "DocumentReference.ndjson": [
                "{\"resourceType\":\"DocumentReference\",\"id\":\"d-big\",\"subject\":{\"reference\":\"Patient/pt-2\"},\"date\":\"2025-01-01\",\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"\(FHIRFixture.base64(big))\"}}]}",
            ],
        ])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: InputError.self) { try FHIRFixture.importAll(folder, mode: .strict) }
        #expect(!FileManager.default.fileExists(atPath: folder + "/patients.jsonl"))

        let (summary, patients) = try FHIRFixture.importAll(folder, mode: .lenient)
        #expect(summary.rejectedByKind == ["bad JSON": 1, "bad time": 1, "duplicate": 1, "no subject": 1,
                                           "unknown resource type": 1, "text too large": 1])
        #expect(patients.count == 2)
        let rejects = try String(contentsOfFile: folder + "/rejects.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(rejects.count == 6)
        #expect(rejects.contains { $0.contains(#""field":"Condition/c-9.recordedDate""#) && $0.contains("2025-02-30") })
        #expect(rejects.contains { $0.contains(#"Condition.ndjson","line":3"#) })
    }

    @Test func referencesAreParsedAsFHIRDefinesThem() {
        func id(_ text: String) -> String? { FHIR.referenceID(.object([("reference", .string(text))]), type: "Patient") }
        #expect(id("Patient/pt-1") == "pt-1" && id("Patient/pt-1/_history/2") == "pt-1")
        #expect(id("https://fhir.example.org/r4/Patient/pt.9") == "pt.9" && id("urn:uuid:2b7c-11") == "urn:uuid:2b7c-11")
        for bad in ["Patient/../../x", "Patient/etc/passwd", "x/y", "Patient/", "Patient/a b", "Patient/a\u{0}b", "Encounter/e-1",
                    "Patient/" + String(repeating: "a", count: 65), "urn:uuid:a/b", "urn:uuid:a\nb"] {
            #expect(id(bad) == nil, "\(bad)")
        }
    }

    @Test func pathLikeIdsAndUnknownPatientsAreRejected() throws {
        let folder = try FHIRFixture.write(extra: [
            "Patient.ndjson": [#"{"resourceType":"Patient","id":"../../x","gender":"male","birthDate":"1970-01-01"}"#],
            "Condition.ndjson": [
                #"{"resourceType":"Condition","id":"c-7","subject":{"reference":"Patient/../../x"},"recordedDate":"2025-01-01","code":{"text":"x"}}"#,
                #"{"resourceType":"Condition","id":"c-6","subject":{"reference":"Patient/ghost"},"recordedDate":"2025-01-01","code":{"text":"x"}}"#,
            ],
        ])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: InputError.self) { try FHIRFixture.importAll(folder, mode: .strict) }
        let (summary, patients) = try FHIRFixture.importAll(folder, mode: .lenient)
        #expect(summary.rejectedByKind["bad id"] == 1 && summary.rejectedByKind["bad reference"] == 1, "\(summary.rejectedByKind)")
        #expect(!patients.contains { $0.id == ".." || $0.id == "x" || $0.id.contains("/") })
        // A patient only referred to is kept in lenient mode (counted), refused in strict.
        #expect(patients.contains { $0.id == "ghost" } && summary.rejectedByKind["unknown patient"] == nil)
        let strictGhost = try FHIRFixture.write(extra: ["Condition.ndjson": [
            #"{"resourceType":"Condition","id":"c-6","subject":{"reference":"Patient/ghost"},"recordedDate":"2025-01-01","code":{"text":"x"}}"#]])
        defer { try? FileManager.default.removeItem(atPath: strictGhost) }
        let error = #expect(throws: InputError.self) { try FHIRFixture.importAll(strictGhost, mode: .strict) }
        #expect(error?.description.contains("Patient/ghost") == true, "\(String(describing: error))")
    }
}
