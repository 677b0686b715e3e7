import EHR
import Foundation
import TGSupport

/// `export llm4ehr`: LLM4EHR's 48-hour mortality and 24-hour phenotyping
/// episodes from the run's ICU stays, one JSONL file per task in a folder
/// (all or nothing), with the cohort's counts and label rates.
///
/// The cohort follows the MIMIC benchmark (Harutyunyan et al. 2019): adult
/// patients, admissions with one ICU stay, stays within one care unit,
/// lasting at least the task's window, with a measurement in it. Patients
/// keep the split their samples have.
public struct LLM4EHRStage: Sendable {
    public var variables: ICUVariableSet
    public var phenotypes: PhenotypeSet
    public var codeMaps: CodeMaps
    public var splits: SampleBuilder
    public var split = SplitSelection.all
    public var tasks: [ICUTask] = ICUTask.allCases
    /// Events whose text is not a note of the input (see `StayWindow`).
    public var excludedNotes: Set<String> = ["discharge"]
    /// Where the episodes go as reasoning samples too (`LLM4EHRSamples`).
    public var samplesOutput: String?

    public init(variables: ICUVariableSet, phenotypes: PhenotypeSet, codeMaps: CodeMaps, splits: SampleBuilder) {
        self.variables = variables
        self.phenotypes = phenotypes
        self.codeMaps = codeMaps
        self.splits = splits
    }

    public struct TaskCounts: Sendable {
        public var episodes = 0
        public var bySplit: [String: Int] = [:]
        /// Stays left out, by the first rule they fail (`StayRule`).
        public var excluded: [String: Int] = [:]
        /// Positive labels: mortality's deaths, or each phenotype's stays.
        public var positives: [Int]
        public var notes = 0
        public var episodesWithNotes = 0
        public var measurements = 0
        /// Diagnoses read and those the code maps lack (phenotyping).
        public var diagnoses = 0
        public var unmappedDiagnoses = 0

        init(labels: Int) { positives = Array(repeating: 0, count: labels) }

        func json(_ task: ICUTask, phenotypes: PhenotypeSet) -> JSONValue {
            func rate(_ count: Int) -> JSONValue { episodes == 0 ? .null : .number((Double(count) / Double(episodes) * 10_000).rounded() / 10_000) }
            var members: [(String, JSONValue)] = [
                ("hours", .integer(Int64(task.hours))), ("episodes", .integer(Int64(episodes))),
                ("by_split", .object(bySplit.keys.sorted().map { ($0, .integer(Int64(bySplit[$0]!))) })),
                ("excluded", .object(StayRule.allCases.compactMap { rule in excluded[rule.rawValue].map { (rule.rawValue, .integer(Int64($0))) } })),
                ("notes", .integer(Int64(notes))), ("episodes_with_notes", .integer(Int64(episodesWithNotes))),
                ("measurements", .integer(Int64(measurements))),
            ]
            switch task {
            case .mortality:
                members.append(("deaths", .integer(Int64(positives[0]))))
                members.append(("mortality_rate", rate(positives[0])))
            case .phenotyping:
                members.append(("diagnoses", .integer(Int64(diagnoses))))
                members.append(("diagnoses_unmapped", .integer(Int64(unmappedDiagnoses))))
                members.append(("phenotype_rates", .object(zip(phenotypes.phenotypes, positives).map { ($0.0.name, rate($0.1)) })))
                members.append(("phenotype_counts", .object(zip(phenotypes.phenotypes, positives).map { ($0.0.name, .integer(Int64($0.1))) })))
            }
            return .object(members)
        }
    }

    public struct Summary: Sendable {
        public var patients = 0
        public var patientsWithStays = 0
        public var stays = 0
        public var patientsLeftOut = 0
        public var tasks: [ICUTask: TaskCounts] = [:]
        public var variables: [String] = []
        /// The samples written, when `samplesOutput` is set.
        public var samples: LLM4EHRSamples?

        public func json(phenotypes: PhenotypeSet) -> JSONValue {
            .object([("patients", .integer(Int64(patients))), ("patients_with_icu_stays", .integer(Int64(patientsWithStays))),
                     ("icu_stays", .integer(Int64(stays))), ("patients_left_out", .integer(Int64(patientsLeftOut))),
                     ("variables", .array(variables.map { .string($0) })),
                     ("phenotypes", .array(phenotypes.phenotypes.map { .string($0.name) })),
                     ("tasks", .object(ICUTask.allCases.compactMap { task in tasks[task].map { (task.rawValue, $0.json(task, phenotypes: phenotypes)) } }))]
                    + (samples.map { samples in
                        [("samples", .object([("written", .integer(Int64(samples.samples))),
                                              ("skipped", .object(samples.skipped.keys.sorted().map { ($0, .integer(Int64(samples.skipped[$0]!))) }))]))]
                    } ?? []))
        }
    }

    /// The file a task's episodes go to in `folder`.
    public static func file(of task: ICUTask, in folder: String) -> String { folder + "/\(task.rawValue).jsonl" }

    /// Reads the timelines at `patients`, writes one file per task into
    /// `folder`. A run without any ICU stay is an error (nothing to export:
    /// the icu module was not imported); so is a phenotyping export whose
    /// code maps give no CCS category numbers.
    public func run(patients: String, folder: String) throws -> Summary {
        if tasks.contains(.phenotyping) {
            guard codeMaps.categoryCount(.icd9Diagnosis) + codeMaps.categoryCount(.icd10Diagnosis) > 0 else {
                throw InputError(file: codeMaps.files.first ?? "--code-maps", field: "'CCS CATEGORY'",
                                 message: "the code maps give no CCS category numbers for diagnoses (HCUP's ccs_dx_icd10cm*.csv or "
                                 + "CCS-SingleDiagnosisGrouper*.txt are needed for phenotyping)")
            }
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let reader = try TimelineReader(path: patients)
        var writers: [ICUTask: JSONLinesWriter] = [:]
        var summary = Summary()
        let samplesWriter = try samplesOutput.map { try JSONLinesWriter(path: $0) }
        var samples = LLM4EHRSamples()
        summary.variables = variables.variables.map(\.name)
        for task in tasks {
            writers[task] = try JSONLinesWriter(path: Self.file(of: task, in: folder))
            summary.tasks[task] = TaskCounts(labels: task == .mortality ? 1 : phenotypes.phenotypes.count)
        }
        while let patient = try reader.next() {
            summary.patients += 1
            let stays = try ICUStay.stays(of: patient)
            guard !stays.isEmpty else { continue }
            summary.patientsWithStays += 1
            summary.stays += stays.count
            let side = splits.split(of: patient.id)
            guard split.admits(side) else {
                summary.patientsLeftOut += 1
                continue
            }
            let context = PatientContext(patient)
            for stay in stays {
                for task in tasks {
                    switch episode(task, stay: stay, of: patient, context: context, split: side, counts: &summary.tasks[task]!) {
                    case .success(let episode):
                        try writers[task]!.writeLine(episode.json(phenotypes: phenotypes))
                        if let samplesWriter, let sample = samples.sample(of: episode, in: patient, phenotypes: phenotypes, maps: codeMaps) {
                            try samplesWriter.writeLine(sample.json)
                        }
                    case .failure(let rule):
                        summary.tasks[task]!.excluded[rule.rawValue, default: 0] += 1
                    }
                }
            }
        }
        guard summary.stays > 0 else {
            throw InputError(file: patients, field: "events", message: "no ICU stays (icustays events) in \(summary.patients) patients: "
                             + "LLM4EHR's tasks need MIMIC-IV's icu module (import mimic --icu FOLDER)")
        }
        for task in tasks { try writers[task]!.commit() }
        if let samplesWriter {
            try samplesWriter.commit()
            summary.samples = samples
        }
        return summary
    }

    /// What a patient's events say about its admissions, looked up per stay.
    struct PatientContext {
        var staysPerAdmission: [String: Int] = [:]
        var expireFlag: [String: Int] = [:]
        var diagnoses: [String: [Record]] = [:]
        var age: Int?

        init(_ patient: Patient) {
            for event in patient.events {
                guard let admission = event.admission else { continue }
                switch event.name {
                case "icustays": staysPerAdmission[admission, default: 0] += 1
                case "admissions":
                    let flag = event.records.first?["hospital_expire_flag"].flatMap { ICUVariable.number($0) }
                    expireFlag[admission] = flag == 1 ? 1 : 0
                case "diagnoses_icd": diagnoses[admission, default: []] += event.records
                default: break
                }
            }
            if let value = patient.statics.first(where: { $0.key == "anchor_age" })?.value {
                age = ICUVariable.number(value).map { Int($0) }
            }
        }
    }

    enum Outcome { case success(StayEpisode), failure(StayRule) }

    func episode(_ task: ICUTask, stay: ICUStay, of patient: Patient, context: PatientContext, split: Split,
                 counts: inout TaskCounts) -> Outcome {
        guard let admission = stay.admission, let died = context.expireFlag[admission] else { return .failure(.noAdmission) }
        guard context.staysPerAdmission[admission, default: 0] <= 1 else { return .failure(.severalStays) }
        if let first = stay.firstCareunit, let last = stay.lastCareunit, first != last { return .failure(.transfer) }
        if let age = context.age, age < 18 { return .failure(.under18) }
        guard let hours = stay.hours else { return .failure(.noOuttime) }
        guard hours >= Double(task.hours) else { return .failure(.shorterThanWindow) }
        let window = StayWindow(stay: stay, of: patient, hours: task.hours, variables: variables, excludedNotes: excludedNotes)
        guard window.measurementCount > 0 else { return .failure(.noMeasurement) }
        var labels: [Int]
        switch task {
        case .mortality:
            labels = [died]
        case .phenotyping:
            let diagnoses = context.diagnoses[admission] ?? []
            guard !diagnoses.isEmpty else { return .failure(.noDiagnoses) }
            let found = phenotypes.labels(of: diagnoses, maps: codeMaps)
            counts.diagnoses += found.diagnoses
            counts.unmappedDiagnoses += found.unmapped
            labels = found.vector
        }
        counts.episodes += 1
        counts.bySplit[split.rawValue, default: 0] += 1
        for (index, label) in labels.enumerated() { counts.positives[index] += label }
        counts.notes += window.notes.count
        if !window.notes.isEmpty { counts.episodesWithNotes += 1 }
        counts.measurements += window.measurementCount
        return .success(StayEpisode(task: task, patient: patient.id, stay: stay, split: split, window: window, labels: labels))
    }
}
