import EHR
import Foundation
import Testing
@testable import ICUTasks
import TGSupport

/// LLM4EHR's episodes on hand-made patients: the variables' conversions,
/// the 48-hour window, the hourly series, the cohort rules and the labels.
@Suite struct ICUTasksTests {
    static let start = Timestamp(year: 2180, month: 5, day: 7, hour: 10)!
    static func at(_ hours: Double) -> Timestamp { start.adding(seconds: Int64(hours * 3600)) }

    static func chart(_ hours: Double, _ label: String, _ valuenum: Double?, value: String? = nil, unit: String? = nil,
                      admission: String? = "h1") -> Event {
        var items = [Item("item_name", .string(label))]
        if let value { items.append(Item("value", .string(value))) } else if let valuenum { items.append(Item("value", .string("\(valuenum)"))) }
        if let valuenum { items.append(Item("valuenum", .number(valuenum))) }
        if let unit { items.append(Item("valueuom", .string(unit))) }
        return Event(name: "chartevents", time: at(hours), admission: admission, records: [Record(items: items)])
    }

    static func stay(_ id: String, admission: String = "h1", from: Double = 0, hours: Double = 60, units: (String, String) = ("MICU", "MICU")) -> Event {
        Event(name: "icustays", time: at(from), admission: admission, records: [Record(items: [
            Item("first_careunit", .string(units.0)), Item("last_careunit", .string(units.1)),
            Item("outtime", .string(at(from + hours).description))])], source: "icustays/\(id)")
    }

    static func admission(_ id: String, died: Bool) -> Event {
        Event(name: "admissions", time: at(-5), admission: id, records: [Record(items: [Item("hospital_expire_flag", .integer(died ? 1 : 0))])],
              source: "admissions/\(id)")
    }

    static func diagnosis(_ code: String, version: Int = 10, admission: String = "h1") -> Event {
        Event(name: "diagnoses_icd", time: at(200), admission: admission,
              records: [Record(items: [Item("icd_code", .string(code)), Item("icd_version", .integer(Int64(version)))])])
    }

    static var variables: ICUVariableSet { get throws { try ICUVariableSet.load(nil) } }
    static func position(_ name: String) throws -> Int { try #require(try variables.variables.firstIndex { $0.name == name }) }

    @Test func theShippedVariablesAreTheBenchmarks17() throws {
        let names = try Self.variables.variables.map(\.name)
        #expect(names.count == 17)
        #expect(names.first == "Capillary refill rate" && names.last == "pH")
        #expect(try PhenotypeSet.load(nil).phenotypes.count == 25)
    }

    @Test func valuesAreConvertedDroppedOrClipped() throws {
        let set = try Self.variables
        func value(_ event: Event) -> [Double] { set.measurements(in: event).map(\.value) }
        #expect(value(Self.chart(1, "Temperature Fahrenheit", 98.6, unit: "°F")).map { ($0 * 10).rounded() / 10 } == [37])
        #expect(value(Self.chart(1, "Temperature Celsius", 37.2, unit: "°C")) == [37.2])
        #expect(value(Self.chart(1, "Admission Weight (lbs.)", 200, unit: "lbs")).map { $0.rounded() } == [91])
        #expect(value(Self.chart(1, "Height", 70, unit: "Inch")) == [178])
        #expect(value(Self.chart(1, "Inspired O2 Fraction", 40, unit: "%")) == [0.4])
        #expect(value(Self.chart(1, "Capillary Refill [Right]", nil, value: "Abnormal >3 Seconds")) == [1])
        #expect(value(Self.chart(1, "Capillary Refill [Left]", nil, value: "Normal <3 Seconds")) == [0])
        #expect(value(Self.chart(1, "GCS - Eye Opening", nil, value: "4 Spontaneously")) == [4])
        #expect(value(Self.chart(1, "heart rate", 370)) == [350], "clipped to the valid range, label case ignored")
        #expect(value(Self.chart(1, "Heart Rate", 500)).isEmpty, "an outlier is dropped")
        #expect(value(Self.chart(1, "Heart Rate", nil, value: "___")).isEmpty)
        // A lab item counts only with its fluid.
        let blood = Event(name: "labevents", time: Self.at(1), records: [Record(items: [
            Item("item_name", .string("Glucose")), Item("valuenum", .number(140)), Item("fluid", .string("Blood"))])])
        let urine = Event(name: "labevents", time: Self.at(1), records: [Record(items: [
            Item("item_name", .string("Glucose")), Item("valuenum", .number(140)), Item("fluid", .string("Urine"))])])
        #expect(set.measurements(in: blood).map(\.variable) == [try Self.position("Glucose")])
        #expect(set.measurements(in: urine).isEmpty)
        #expect(ICUVariable.pressurePair("120/80")! == (120, 80))
    }

    @Test func theWindowReadsNothingFromHour48OnAndFillsTheHours() throws {
        let set = try Self.variables
        let heart = try Self.position("Heart Rate"), gcsTotal = try Self.position("Glascow coma scale total")
        let patient = Patient(id: "p1", events: [
            Self.admission("h1", died: true), Self.stay("s1"),
            Self.chart(0.5, "Heart Rate", 90), Self.chart(0.9, "Heart Rate", 95),
            Self.chart(3.25, "Heart Rate", 110),
            Self.chart(3.25, "GCS - Eye Opening", 3), Self.chart(3.25, "GCS - Motor Response", 5), Self.chart(3.25, "GCS - Verbal Response", 4),
            Event(name: "radiology", time: Self.at(10), admission: "h1", text: "CHEST X-RAY: no acute process."),
            Self.chart(47.99, "Heart Rate", 120),
            Self.chart(48, "Heart Rate", 130), Self.chart(70, "Heart Rate", 140),
            Self.chart(5, "Heart Rate", 60, admission: "h0"),
            Event(name: "discharge", time: Self.at(20), admission: "h1", text: "Discharge summary: the patient died."),
        ])
        let stay = try #require(try ICUStay.stays(of: patient).first)
        let window = StayWindow(stay: stay, of: patient, hours: 48, variables: set, excludedNotes: ["discharge"])
        #expect(window.times == [0.5, 0.9, 3.25, 47.99].map { (($0 * 3600).rounded()) / 3600 })
        #expect(window.times.allSatisfy { $0 < 48 })
        #expect(window.irregular.map { $0[heart] } == [90, 95, 110, 120])
        #expect(window.irregular[2][gcsTotal] == 12, "the GCS total is derived from its parts charted at one time")
        #expect(window.notes == ["CHEST X-RAY: no acute process."] && window.noteTimes == [10])
        #expect(window.regular.count == 48 && window.regular.allSatisfy { $0.count == 34 })
        // Hour 0: the hour's last value; hours 1-2: carried; hour 3: new; before anything: the normal value.
        #expect(window.regular[0][heart] == 95 && window.regular[0][17 + heart] == 1)
        #expect(window.regular[2][heart] == 95 && window.regular[2][17 + heart] == 0)
        #expect(window.regular[3][heart] == 110 && window.regular[47][heart] == 120)
        #expect(window.regular[0][gcsTotal] == 15 && window.regular[3][gcsTotal] == 12)
        #expect(window.measurementCount == 4 + 4)
    }

    static func codeMaps() throws -> CodeMaps {
        let folder = NSTemporaryDirectory() + "tg-icu-maps-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
            'ICD-10-CM CODE','CCS CATEGORY','ICD-10-CM CODE DESCRIPTION','CCS CATEGORY DESCRIPTION'
            'A419','2',"Sepsis, unspecified organism","Septicemia (except in labor)"
            'I10','98',"Essential (primary) hypertension","Essential hypertension"
            'K5900','155',"Constipation, unspecified","Other gastrointestinal disorders"

            """.write(toFile: folder + "/ccs_dx_icd10cm_2019_1.csv", atomically: true, encoding: .utf8)
        try "Appendix A\n\n108  Congestive heart failure; nonhypertensive\n     4280 4281\n"
            .write(toFile: folder + "/CCS-SingleDiagnosisGrouper.txt", atomically: true, encoding: .utf8)
        return try CodeMaps.load(folder: folder)
    }

    static func timelines(_ patients: [Patient]) throws -> String {
        let path = NSTemporaryDirectory() + "tg-icu-\(UUID().uuidString).jsonl"
        try patients.map { patient in
            var sorted = patient
            sorted.sortEvents()
            return sorted.jsonLine
        }.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theCohortRulesCountEveryStayLeftOutAndTheLabelsFollowTheRecord() throws {
        let measured = [Self.chart(1, "Heart Rate", 80), Self.chart(30, "Heart Rate", 82)]
        let patients = [
            // Kept by both tasks: died; sepsis (ICD-10), heart failure (ICD-9), constipation (not a phenotype), an unknown code.
            Patient(id: "1", statics: [Item("anchor_age", .integer(70))], events: [Self.admission("h1", died: true), Self.stay("s1")] + measured
                    + [Self.diagnosis("A419"), Self.diagnosis("4280", version: 9), Self.diagnosis("K5900"), Self.diagnosis("Z9999")]),
            // 30 hours: phenotyping only.
            Patient(id: "2", events: [Self.admission("h1", died: false), Self.stay("s2", hours: 30)] + measured + [Self.diagnosis("I10")]),
            // Two stays in one admission.
            Patient(id: "3", events: [Self.admission("h1", died: false), Self.stay("s3"), Self.stay("s4", from: 100)] + measured),
            // Moved between units.
            Patient(id: "4", events: [Self.admission("h1", died: false), Self.stay("s5", units: ("MICU", "SICU"))] + measured),
            // A child.
            Patient(id: "5", statics: [Item("anchor_age", .integer(12))], events: [Self.admission("h1", died: false), Self.stay("s6")] + measured),
            // Nothing measured in the window; no diagnoses either.
            Patient(id: "6", events: [Self.admission("h1", died: false), Self.stay("s7"), Self.chart(50, "Heart Rate", 80)]),
            // No admissions event: no label.
            Patient(id: "7", events: [Self.stay("s8")] + measured),
            // No ICU stay at all.
            Patient(id: "8", events: [Self.admission("h1", died: false)]),
        ]
        let input = try Self.timelines(patients)
        let folder = NSTemporaryDirectory() + "tg-icu-out-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: folder) }
        let stage = LLM4EHRStage(variables: try Self.variables, phenotypes: try PhenotypeSet.load(nil), codeMaps: try Self.codeMaps(),
                                 splits: SampleBuilder(tasks: []))
        let summary = try stage.run(patients: input, folder: folder)
        #expect(summary.patients == 8 && summary.patientsWithStays == 7 && summary.stays == 8)
        let ihm = try #require(summary.tasks[.mortality]), pheno = try #require(summary.tasks[.phenotyping])
        #expect(ihm.episodes == 1 && ihm.positives == [1])
        #expect(ihm.excluded == ["shorter_than_window": 1, "several_icu_stays": 2, "transfer_between_units": 1, "under_18": 1,
                                 "no_measurement_in_window": 1, "no_admission": 1])
        #expect(pheno.episodes == 2)
        #expect(pheno.excluded == ["several_icu_stays": 2, "transfer_between_units": 1, "under_18": 1, "no_measurement_in_window": 1,
                                   "no_admission": 1])
        #expect(pheno.diagnoses == 5 && pheno.unmappedDiagnoses == 1)

        let lines = try String(contentsOfFile: LLM4EHRStage.file(of: .phenotyping, in: folder), encoding: .utf8).split(separator: "\n")
        let first = try JSONValue.parse(Array(lines[0].utf8))
        let names = try PhenotypeSet.load(nil).phenotypes.map(\.name)
        let labels = try #require(first["label"]?.arrayValue).compactMap(\.doubleValue)
        #expect(labels.count == 25)
        let positive = Set(zip(names, labels).filter { $0.1 == 1 }.map(\.0))
        #expect(positive == ["Septicemia (except in labor)", "Congestive heart failure; nonhypertensive"])
        #expect(first["name"]?.stringValue == "1_s1" && first["split"] != nil)
        #expect(try #require(first["reg_ts"]?.arrayValue).count == 24)
        let mortality = try String(contentsOfFile: LLM4EHRStage.file(of: .mortality, in: folder), encoding: .utf8)
        #expect(try JSONValue.parse(Array(mortality.split(separator: "\n")[0].utf8))["label"]?.doubleValue == 1)
    }

    @Test func badInputIsNamed() throws {
        // A variable file with an unknown conversion: its line and field.
        let text = "variable\tnormal\toutlier_low\tvalid_low\tvalid_high\toutlier_high\tconversion\tsources\n"
            + "Heart Rate\t86\t0\t0\t350\t390\tbpm\tchartevents:Heart Rate\n"
        #expect(throws: InputError.self) { try ICUVariableSet.parse(text, file: "v.tsv", source: "v.tsv") }
        do {
            _ = try ICUVariableSet.parse(text, file: "v.tsv", source: "v.tsv")
        } catch let error as InputError {
            #expect(error.line == 2 && error.field == "conversion")
        }
        let ranges = "variable\tnormal\toutlier_low\tvalid_low\tvalid_high\toutlier_high\tconversion\tsources\n"
            + "Heart Rate\t86\t0\t400\t350\t390\tnumber\tchartevents:Heart Rate\n"
        #expect(throws: InputError.self) { try ICUVariableSet.parse(ranges, file: "v.tsv", source: "v.tsv") }
        #expect(throws: InputError.self) { try PhenotypeSet.parse("phenotype\ttype\tccs\nShock\tacute\tX\n", file: "p.tsv", source: "p.tsv") }

        // A run without ICU stays, and code maps without category numbers: errors, nothing written.
        let input = try Self.timelines([Patient(id: "1", events: [Self.admission("h1", died: false)])])
        let folder = NSTemporaryDirectory() + "tg-icu-out-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: folder) }
        let stage = LLM4EHRStage(variables: try Self.variables, phenotypes: try PhenotypeSet.load(nil), codeMaps: try Self.codeMaps(),
                                 splits: SampleBuilder(tasks: []))
        #expect(throws: InputError.self) { try stage.run(patients: input, folder: folder) }
        #expect(!FileManager.default.fileExists(atPath: LLM4EHRStage.file(of: .mortality, in: folder)))
        let bare = LLM4EHRStage(variables: try Self.variables, phenotypes: try PhenotypeSet.load(nil), codeMaps: CodeMaps(),
                                splits: SampleBuilder(tasks: []))
        #expect(throws: InputError.self) { try bare.run(patients: input, folder: folder) }
    }
}
