import EHR
import Foundation
import Runtime
import TGSupport

/// LLM4EHR's episodes as reasoning samples, in a run folder of their own
/// (`export llm4ehr --samples-run NEW`), so that extract, cooccur, evidence,
/// reason and filter make chains for them as for EHR-R1's tasks.
///
/// A sample's context is the stay's window (its events read, plus the
/// admission's `admissions` event); its target event is the admission's
/// `diagnoses_icd` event, recorded at discharge, when the outcome is known.
/// Mortality's target is "died in hospital" or "survived to discharge";
/// phenotyping's are the CCS categories (the `ccs_type` of the diagnoses,
/// where the import had --code-maps, else the phenotype's name) of the
/// phenotypes present. Stays without a phenotype make no sample.
public struct LLM4EHRSamples: Sendable {
    public static let died = "died in hospital"
    public static let survived = "survived to discharge"

    public static func taskName(_ task: ICUTask) -> String { "llm4ehr_\(task.rawValue)" }

    /// Samples left out, by reason.
    public var skipped: [String: Int] = [:]
    public var samples = 0

    public init() {}

    /// The task entries of the new run's task file.
    public static func taskEntries(_ tasks: [ICUTask], phenotypes: PhenotypeSet) -> [JSONValue] {
        tasks.map { task in
            let instruction: String
            switch task {
            case .mortality:
                instruction = "Given the events of the first 48 hours of this ICU stay, predict whether the patient will die in the hospital. "
                    + "Answer \"\(died)\" or \"\(survived)\"."
            case .phenotyping:
                instruction = "Given the events of the first 24 hours of this ICU stay, predict which of these acute care conditions "
                    + "the admission will be diagnosed with: " + phenotypes.phenotypes.map(\.name).joined(separator: "; ") + "."
            }
            return .object([("name", .string(taskName(task))), ("events", .array([.string("diagnoses_icd")])),
                            ("target_key", .string(task == .phenotyping ? "ccs_type" : "outcome")),
                            ("metric", .string(task == .phenotyping ? "recall" : "exact_match")),
                            ("instruction", .string(instruction)), ("context_hours", .integer(Int64(task.hours))),
                            ("same_admission", .bool(true)), ("include_admission", .bool(true)),
                            ("include_previous_discharge", .bool(false)), ("min_context_events", .integer(0)),
                            ("max_context_events", .integer(1_000_000))])
        }
    }

    /// The sample of an episode, or nil (counted) when its admission has no
    /// diagnoses event after the window, or no phenotype.
    mutating func sample(of episode: StayEpisode, in patient: Patient, phenotypes: PhenotypeSet, maps: CodeMaps) -> Sample? {
        guard let admission = episode.stay.admission,
              let target = patient.events.indices.last(where: { patient.events[$0].name == "diagnoses_icd" && patient.events[$0].admission == admission }),
              let lastRead = episode.window.eventsRead.last, lastRead < target,
              patient.events[target].time > patient.events[lastRead].time else {
            skipped["no_diagnoses_after_window", default: 0] += 1
            return nil
        }
        var targets: [String]
        switch episode.task {
        case .mortality:
            targets = [episode.labels[0] == 1 ? Self.died : Self.survived]
        case .phenotyping:
            targets = []
            let present = Set(zip(phenotypes.phenotypes, episode.labels).filter { $0.1 == 1 }.flatMap { $0.0.categories })
            for record in patient.events[target].records {
                guard let code = record["icd_code"]?.description,
                      let system = record["icd_version"].flatMap({ CodeMaps.diagnosisSystem(icdVersion: $0.description) }),
                      let category = maps.category(code, system), present.contains(category) else { continue }
                let name = record["ccs_type"]?.description
                    ?? phenotypes.phenotypes.first { $0.categories.contains(category) }!.name
                if !targets.contains(name) { targets.append(name) }
            }
            guard !targets.isEmpty else {
                skipped["no_phenotype", default: 0] += 1
                return nil
            }
        }
        let admissionEvent = patient.events.indices.first { patient.events[$0].name == "admissions" && patient.events[$0].admission == admission }
        let context = Array(Set(episode.window.eventsRead + (admissionEvent.map { [$0] } ?? []))).sorted()
        samples += 1
        let time = patient.events[target].time
        let stamp = time.description.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
            .replacingOccurrences(of: " ", with: "T")
        return Sample(id: "\(patient.id):\(Self.taskName(episode.task)):\(stamp)", patient: patient.id, task: Self.taskName(episode.task),
                      split: episode.split, targetEvent: target, targetTime: time, admission: admission, contextEvents: context,
                      targets: targets)
    }

    /// Starts the run folder `path` for the samples: the source run's
    /// patients (hard-linked, else copied), its import record, and a task
    /// file of the LLM4EHR tasks with the source's event displays. A folder
    /// that already holds samples is an error; one an interrupted export
    /// left without them is made again.
    public static func startRun(at path: String, from source: RunFolder, tasks: [ICUTask], phenotypes: PhenotypeSet) throws -> RunFolder {
        let manager = FileManager.default
        let patientsName = (source.patients as NSString).lastPathComponent
        for name in ["samples.jsonl", "samples.jsonl.gz"] where manager.fileExists(atPath: path + "/" + name) {
            throw UsageError("\(path): already a run folder with samples (\(name)); choose a new folder for --samples-run")
        }
        try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        // What an interrupted export left (patients, task file) is made again.
        for name in ["patients.jsonl", "patients.jsonl.gz"] { try? manager.removeItem(atPath: path + "/" + name) }
        do {
            try manager.linkItem(atPath: source.patients, toPath: path + "/" + patientsName)
        } catch {
            try manager.copyItem(atPath: source.patients, toPath: path + "/" + patientsName)
        }
        let sourceManifest = try RunManifest(directory: source.path)
        guard let imported = sourceManifest.stage("import") else {
            throw UsageError("\(source.path)/run.json: no import record")
        }
        var manifest = try RunManifest(directory: path)
        manifest.set("import", imported)
        try manifest.save()
        // The source's task file (its event displays), with the LLM4EHR tasks only.
        let taskPath = source.path + "/tasks.json"
        let text = manager.fileExists(atPath: taskPath) ? try String(contentsOfFile: taskPath, encoding: .utf8) : try TaskSet.standardText()
        guard case .object(var members) = try JSONValue.parse(Array(text.utf8)) else {
            throw InputError(file: taskPath, message: "not a task file (expected an object)")
        }
        members.removeAll { $0.0 == "tasks" }
        members.append(("tasks", .array(taskEntries(tasks, phenotypes: phenotypes))))
        let writer = try JSONLinesWriter(path: path + "/tasks.json")
        try writer.writeLine(JSONValue.object(members))
        try writer.commit()
        _ = try TaskSet(contentsOf: path + "/tasks.json")
        return try RunFolder(path)
    }
}
