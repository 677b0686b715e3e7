import ArgumentParser
import EHR
import Foundation
import ICUTasks
import Runtime
import TGSupport

extension ICUTask: ExpressibleByArgument {}

struct ExportLLM4EHRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm4ehr",
        abstract: "Write LLM4EHR's ICU tasks: 48-hour in-hospital mortality and 24-hour phenotyping episodes.",
        discussion: """
            Reads RUN/patients.jsonl (a MIMIC-IV import with its icu module); writes OUT/ihm.jsonl and OUT/pheno.jsonl \
            (default OUT: RUN/llm4ehr), one ICU stay per line in LLM4EHR's fields: reg_ts (an hourly series of the 17 \
            benchmark variables followed by their masks), irg_ts / irg_ts_mask / ts_tt (the measurements as taken, hours \
            from the stay's start), text_data / text_time (the notes of the window), label, name; plus patient, stay, \
            split. Nothing recorded at or after the window's end (hour 48 or 24) is read. Cohort: the MIMIC benchmark's \
            (adults, one ICU stay per admission, one care unit, the stay at least as long as the window, a measurement \
            in it); OUT/stats.json counts every stay left out by rule, and the label rates. Phenotypes come from the \
            admission's ICD diagnoses through HCUP's CCS (--code-maps: Lexicons/downloads/code-maps after \
            Lexicons/fetch-open-vocabularies.sh).
            """)

    @Option(name: .customLong("run"), help: "Run folder (after `thinkgraph import mimic ... --icu FOLDER`).")
    var runFolder: String?

    @Option(help: "Output folder (default: RUN/llm4ehr).")
    var out: String?

    @Option(help: "Folder of HCUP CCS maps (needed for pheno): Lexicons/downloads/code-maps.")
    var codeMaps: String?

    @Option(name: .customLong("task"), help: "Tasks to write: ihm, pheno (repeat; default both).")
    var tasks: [ICUTask] = []

    @Option(help: "Variable file (default: the shipped llm4ehr-variables.tsv).")
    var variables: String?

    @Option(help: "Phenotype file (default: the shipped llm4ehr-phenotypes.tsv).")
    var phenotypes: String?

    @Option(name: .customLong("exclude-notes"), help: "Events whose text is not an input note (repeat; default: discharge, whose summary states the outcome).")
    var excludedNotes: [String] = []

    @Option(help: "Also write the episodes as reasoning samples into this new run folder (the run's patients, the LLM4EHR tasks), for extract, cooccur, evidence, reason and filter there.")
    var samplesRun: String?

    @Option(help: "Patients taken: train, test or all (the default; each line says its split).")
    var split: SplitSelection = .all

    @Flag(help: "Print the shipped variable file and exit.")
    var printDefaultVariables = false

    @Flag(help: "Run even if RUN/patients.jsonl changed since it was imported.")
    var force = false

    @Flag(help: "Print the counts as one JSON line.")
    var json = false

    func validate() throws {
        if printDefaultVariables { return }
        guard runFolder != nil else { throw ValidationError("--run is required") }
        if (tasks.isEmpty || tasks.contains(.phenotyping)) && codeMaps == nil {
            throw ValidationError("--code-maps is required for pheno (or pass --task ihm)")
        }
    }

    func run() throws {
        if printDefaultVariables {
            print(try ICUVariableSet.shippedText(), terminator: "")
            return
        }
        let run = try RunFolder(runFolder!)
        let started = RunManifest.now()
        let checksum = try run.verify(.patients, force: force)
        var manifest = try RunManifest(directory: run.path)
        let splits = SampleSplits(manifest)
        let phenotypeSet = try PhenotypeSet.load(phenotypes)
        var stage = LLM4EHRStage(variables: try ICUVariableSet.load(variables), phenotypes: phenotypeSet,
                                 codeMaps: try codeMaps.map(CodeMaps.load(folder:)) ?? CodeMaps(), splits: splits.builder)
        stage.split = split
        if !tasks.isEmpty { stage.tasks = ICUTask.allCases.filter(tasks.contains) }
        if !excludedNotes.isEmpty { stage.excludedNotes = Set(excludedNotes) }
        let folder = out ?? run.path + "/llm4ehr"
        let derived = try samplesRun.map { try LLM4EHRSamples.startRun(at: $0, from: run, tasks: stage.tasks, phenotypes: phenotypeSet) }
        stage.samplesOutput = derived?.samples
        let summary = try stage.run(patients: run.patients, folder: folder)
        if let derived { try recordSamples(in: derived, from: run, splits: splits, checksum: checksum, started: started, summary: summary) }
        let counts = summary.json(phenotypes: phenotypeSet)
        let stats = try JSONLinesWriter(path: folder + "/stats.json")
        try stats.writeLine(counts)
        try stats.commit()
        var entry = RunManifest.Stage(status: "complete")
        entry.started = started
        entry.finished = RunManifest.now()
        entry.configuration = [("out", .string(folder)), ("tasks", .array(stage.tasks.map { .string($0.rawValue) })),
                               ("variables", .string(stage.variables.source)), ("phenotypes", .string(phenotypeSet.source)),
                               ("code_maps", .array((stage.codeMaps.files).map { .string($0) })),
                               ("excluded_notes", .array(stage.excludedNotes.sorted().map { .string($0) })),
                               ("split", .string(split.rawValue)), ("split_seed", .integer(Int64(splits.seed))),
                               ("test_fraction", .number(splits.testFraction))]
        entry.inputs = [("patients.jsonl", checksum)]
        entry.counts = counts
        manifest.set("export_llm4ehr", entry)
        try manifest.save()
        if json {
            print(counts.jsonText)
            return
        }
        print("export llm4ehr: \(summary.stays) ICU stays of \(summary.patientsWithStays) patients -> \(folder)")
        for task in stage.tasks {
            guard let taskCounts = summary.tasks[task] else { continue }
            let excluded = StayRule.allCases.compactMap { rule in taskCounts.excluded[rule.rawValue].map { "\(rule.rawValue) \($0)" } }
            var line = "  \(task.rawValue) (\(task.hours) h): \(taskCounts.episodes) episodes"
            if task == .mortality, taskCounts.episodes > 0 {
                line += String(format: ", mortality %.1f%%", Double(taskCounts.positives[0]) / Double(taskCounts.episodes) * 100)
            }
            if task == .phenotyping, taskCounts.episodes > 0 {
                let mean = Double(taskCounts.positives.reduce(0, +)) / Double(taskCounts.episodes)
                line += String(format: ", %.2f phenotypes per stay", mean)
                if taskCounts.unmappedDiagnoses > 0 { line += ", \(taskCounts.unmappedDiagnoses) of \(taskCounts.diagnoses) diagnoses not in the code maps" }
            }
            print(line + (excluded.isEmpty ? "" : "; left out: " + excluded.joined(separator: ", ")))
        }
        if summary.patientsLeftOut > 0 { print("  \(summary.patientsLeftOut) patients of the other split left out (--split)") }
        if let derived, let samples = summary.samples {
            let skipped = samples.skipped.keys.sorted().map { "\($0) \(samples.skipped[$0]!)" }
            print("  \(samples.samples) reasoning samples -> \(derived.samples)" + (skipped.isEmpty ? "" : "; left out: " + skipped.joined(separator: ", ")))
        }
    }

    /// The new run's samples record, as `samples` would write it.
    private func recordSamples(in derived: RunFolder, from run: RunFolder, splits: SampleSplits, checksum: String, started: String,
                               summary: LLM4EHRStage.Summary) throws {
        var manifest = try RunManifest(directory: derived.path)
        var entry = RunManifest.Stage(status: "complete")
        entry.started = started
        entry.finished = RunManifest.now()
        entry.configuration = [("tasks", .string("(llm4ehr tasks, from export llm4ehr --run \(run.path))")),
                               ("task_names", .array(ICUTask.allCases.filter { summary.tasks[$0] != nil }.map { .string(LLM4EHRSamples.taskName($0)) })),
                               ("seed", .integer(Int64(splits.seed))), ("test_fraction", .number(splits.testFraction))]
        entry.inputs = [("patients.jsonl", checksum)]
        try entry.recordOutputs(PipelineStage.samples.outputs, in: derived)
        entry.counts = .object([("samples", .integer(Int64(summary.samples?.samples ?? 0)))])
        manifest.set("samples", entry)
        try manifest.save()
    }
}
