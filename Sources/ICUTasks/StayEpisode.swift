import EHR
import Foundation
import TGSupport

/// LLM4EHR's two prediction tasks over an ICU stay's first hours.
public enum ICUTask: String, Sendable, CaseIterable {
    /// 48-hour in-hospital mortality: stays of at least 48 h; the label is
    /// the admission's `hospital_expire_flag`.
    case mortality = "ihm"
    /// 24-hour phenotyping: stays of at least 24 h; 25 labels from the
    /// admission's diagnoses.
    case phenotyping = "pheno"

    /// The hours of the stay the input covers (and the stay must last).
    public var hours: Int { self == .mortality ? 48 : 24 }
}

/// What one stay's first hours hold, in LLM4EHR's fields: the notes with
/// their times, an hourly series of the variables with masks, and the
/// irregular series as measured. Times are hours from the stay's start
/// (`intime`); only what was recorded before hour `hours` is read.
public struct StayWindow: Sendable {
    public var hours: Int
    /// `hours` rows of the variables' values (the hour's last measurement,
    /// else the previous hour's value, else the variable's normal value)
    /// followed by as many 0/1 masks (1: measured in that hour).
    public var regular: [[Double]]
    /// One row per time with a measurement: the values (nil when not
    /// measured then), the masks, the times.
    public var irregular: [[Double?]]
    public var irregularMask: [[Int]]
    public var times: [Double]
    public var notes: [String]
    public var noteTimes: [Double]
    /// The notes' event names, and the indices of the events read.
    public var noteEvents: [String]
    public var eventsRead: [Int]

    public var measurementCount: Int { irregularMask.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The window of `stay` in `patient`: events of the stay's admission
    /// (or of none) from its start to before hour `hours`. Notes are events
    /// with text, except those named in `excludedNotes` (a discharge
    /// summary is written at the end and states the outcome).
    public init(stay: ICUStay, of patient: Patient, hours: Int, variables: ICUVariableSet, excludedNotes: Set<String>) {
        self.hours = hours
        let start = stay.intime.secondsSinceEpoch
        let end = start + Int64(hours) * 3600
        let measured = variables.eventNames
        var byTime: [Int64: [Int: Double]] = [:]
        notes = []
        noteTimes = []
        noteEvents = []
        eventsRead = []
        for (index, event) in patient.events.enumerated() {
            let time = event.time.secondsSinceEpoch
            guard time >= start, time < end else { continue }
            guard event.admission == nil || event.admission == stay.admission else { continue }
            var read = false
            if let text = event.text, !text.isEmpty, !excludedNotes.contains(event.name) {
                notes.append(text)
                noteTimes.append(Double(time - start) / 3600)
                noteEvents.append(event.name)
                read = true
            }
            if measured.contains(event.name) {
                for (variable, value) in variables.measurements(in: event) {
                    byTime[time - start, default: [:]][variable] = value
                    read = true
                }
            }
            if read { eventsRead.append(index) }
        }
        let count = variables.variables.count
        irregular = []
        irregularMask = []
        times = []
        var lastInHour = Array(repeating: [Double?](repeating: nil, count: count), count: hours)
        for offset in byTime.keys.sorted() {
            var values = byTime[offset]!
            if let total = variables.gcsTotal, let sum = variables.derivedTotal(values) { values[total] = sum }
            let row = (0..<count).map { values[$0] }
            irregular.append(row)
            irregularMask.append(row.map { $0 == nil ? 0 : 1 })
            times.append(Double(offset) / 3600)
            let hour = Int(offset / 3600)
            for (variable, value) in values { lastInHour[hour][variable] = value }
        }
        var carried = variables.variables.map(\.normal)
        regular = []
        for hour in 0..<hours {
            var masks = [Double](repeating: 0, count: count)
            for variable in 0..<count {
                if let value = lastInHour[hour][variable] {
                    carried[variable] = value
                    masks[variable] = 1
                }
            }
            regular.append(carried + masks)
        }
    }
}

/// One line of `llm4ehr/ihm.jsonl` or `pheno.jsonl`.
public struct StayEpisode: Sendable {
    public var task: ICUTask
    public var patient: String
    public var stay: ICUStay
    public var split: Split
    public var window: StayWindow
    /// Mortality: [0] or [1]; phenotyping: one 0/1 per phenotype.
    public var labels: [Int]

    /// `patient_stay`, as LLM4EHR's `name` identifies an episode.
    public var name: String { "\(patient)_\(stay.id)" }

    public func json(phenotypes: PhenotypeSet) -> JSONValue {
        func numbers(_ values: [Double]) -> JSONValue { .array(values.map { .number($0) }) }
        var members: [(String, JSONValue)] = [
            ("name", .string(name)), ("task", .string(task.rawValue)), ("patient", .string(patient)),
            ("stay", .string(stay.id)), ("admission", stay.admission.map { .string($0) } ?? .null),
            ("split", .string(split.rawValue)), ("intime", .string(stay.intime.description)),
            ("hours", .integer(Int64(window.hours))),
        ]
        switch task {
        case .mortality: members.append(("label", .integer(Int64(labels[0]))))
        case .phenotyping:
            members.append(("label", .array(labels.map { .integer(Int64($0)) })))
            members.append(("phenotypes", .array(zip(phenotypes.phenotypes, labels).filter { $0.1 == 1 }.map { .string($0.0.name) })))
        }
        members += [
            ("reg_ts", .array(window.regular.map(numbers))),
            ("irg_ts", .array(window.irregular.map { .array($0.map { $0.map { .number($0) } ?? .null }) })),
            ("irg_ts_mask", .array(window.irregularMask.map { .array($0.map { .integer(Int64($0)) }) })),
            ("ts_tt", numbers(window.times)),
            ("text_data", .array(window.notes.map { .string($0) })),
            ("text_time", numbers(window.noteTimes)),
            ("text_events", .array(window.noteEvents.map { .string($0) })),
            ("events", .array(window.eventsRead.map { .integer(Int64($0)) })),
        ]
        return .object(members)
    }
}
