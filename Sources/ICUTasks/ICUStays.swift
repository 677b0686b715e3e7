import EHR
import Foundation
import TGSupport

/// One ICU stay of a patient, from an `icustays` event (MIMIC-IV's icu
/// module): when it began and ended, its units, its admission.
public struct ICUStay: Sendable, Equatable {
    public var id: String
    public var admission: String?
    public var intime: Timestamp
    public var outtime: Timestamp?
    public var firstCareunit: String?
    public var lastCareunit: String?
    /// Where it came from (`icustays/ID`), for messages.
    public var source: String

    /// The stay's length in hours (nil without an end).
    public var hours: Double? { outtime.map { Double($0.secondsSinceEpoch - intime.secondsSinceEpoch) / 3600 } }

    /// The patient's stays in time order. An end that is not a time is an
    /// error naming the patient and the field; a missing one is left nil
    /// (the cohort rules count the stay).
    public static func stays(of patient: Patient) throws -> [ICUStay] {
        var stays: [ICUStay] = []
        for (index, event) in patient.events.enumerated() where event.name == "icustays" {
            let record = event.records.first
            let id = event.source.map { $0.hasPrefix("icustays/") ? String($0.dropFirst("icustays/".count)) : $0 } ?? "\(index)"
            var outtime: Timestamp?
            if let text = record?["outtime"]?.description, !text.isEmpty {
                guard let parsed = Timestamp(parsing: text) else {
                    throw InputError(file: "patient \(patient.id)", field: "events[\(index)].records[0].items.outtime",
                                     message: "not a time: \"\(text)\"")
                }
                outtime = parsed
            }
            stays.append(ICUStay(id: id, admission: event.admission, intime: event.time, outtime: outtime,
                                 firstCareunit: record?["first_careunit"]?.description, lastCareunit: record?["last_careunit"]?.description,
                                 source: event.source ?? "events[\(index)]"))
        }
        return stays
    }
}

/// The MIMIC benchmark's cohort rules for a stay, in the order they are
/// applied: each excluded stay is counted under the first rule it fails.
public enum StayRule: String, Sendable, CaseIterable {
    /// The stay has no admission, or the admission has no `admissions` event (no label).
    case noAdmission = "no_admission"
    /// Its admission had more than one ICU stay (the benchmark keeps one-stay admissions).
    case severalStays = "several_icu_stays"
    /// It moved between care units (first and last unit differ).
    case transfer = "transfer_between_units"
    /// The patient was under 18 (`anchor_age`).
    case under18 = "under_18"
    /// It has no end time.
    case noOuttime = "no_outtime"
    /// It is shorter than the task's window.
    case shorterThanWindow = "shorter_than_window"
    /// No variable was measured in the window.
    case noMeasurement = "no_measurement_in_window"
    /// Phenotyping: the admission has no diagnosis.
    case noDiagnoses = "no_diagnoses"
}
