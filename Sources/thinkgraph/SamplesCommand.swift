import ArgumentParser
import EHR
import Foundation
import Runtime
import TGSupport

struct SamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samples",
        abstract: "Write a run's sample index (RUN/samples.jsonl) from its timelines and a task file.",
        discussion: """
            Reads RUN/patients.jsonl (from `thinkgraph import`). Each sample: a stable id, the patient, the task, \
            the split (by patient, seeded), the target event, the context event indices and the target items. \
            Per-task counts are printed and stored in RUN/run.json. See docs/TASKS.md.
            """)

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String?

    @Option(help: "Task-definition file (JSON), or a shipped set: ehr-r1 (MIMIC-IV, FHIR) or omop. Default: omop after an OMOP CDM import, else ehr-r1.")
    var tasks: String?

    @Option(help: "Only these tasks (comma-separated names).")
    var task: String?

    @Option(help: "Seed of the patient split and of capped sampling.")
    var seed: UInt64 = 42

    @Option(help: "Share of patients in the test split.")
    var testFraction = 0.1

    @Option(help: "Most samples per task and split, drawn as the task file's sampling says (e.g. 1000, or labevents=500,diagnoses_icd=200); replaces the task file's quotas.")
    var maxPerTask: String?

    @Flag(help: "Run even if RUN/patients.jsonl changed since it was imported.")
    var force = false

    @Flag(help: "Print the shipped task file and exit.")
    var printDefaultTasks = false

    @Flag(help: "Print the summary as one JSON line on standard output.")
    var json = false

    func validate() throws {
        guard printDefaultTasks || runFolder != nil else { throw ValidationError("--run is required") }
        guard testFraction >= 0, testFraction <= 1 else { throw ValidationError("--test-fraction must be in [0, 1]") }
    }

    func run() throws {
        if printDefaultTasks {
            print(try TaskSet.standardText(), terminator: "")
            return
        }
        let run = runFolder!
        let started = RunManifest.now()
        let folder = try RunFolder(run)
        let checksum = try folder.verify(.patients, force: force)
        let patients = folder.patients
        var manifest = try RunManifest(directory: run)
        // The shipped set that fits the import, unless a task file is given.
        let imported = manifest.stage("import")?.configuration.first { $0.0 == "format" }?.1.stringValue
        let tasks = self.tasks ?? (imported == "omop-cdm" ? "omop" : "ehr-r1")
        let taskSet = try TaskSet.load(tasks).selecting(task)
        let index = SampleIndex(builder: SampleBuilder(tasks: taskSet.tasks, seed: seed, testFraction: testFraction),
                                caps: try parseCaps(taskSet))
        let caps = index.caps
        let output = try JSONLinesWriter(path: folder.samples)
        let counts = try index.write(patients: patients, to: output)
        // The task file goes beside the samples: later stages render
        // contexts and read tasks as the samples were made.
        let taskFile = try JSONLinesWriter(path: "\(run)/tasks.json")
        let taskText = try TaskSet.text(of: tasks)
        try taskFile.writeLine(taskText.hasSuffix("\n") ? String(taskText.dropLast()) : taskText)
        try output.commit()
        try taskFile.commit()

        var stage = RunManifest.Stage(status: "complete")
        stage.started = started
        stage.finished = RunManifest.now()
        stage.configuration = [
            ("tasks", .string(TaskSet.isShippedName(tasks) ? "(shipped \(tasks == "ehr-r1" ? "EHR-R1" : tasks) tasks)" : tasks)), ("task_names", .array(taskSet.tasks.map { .string($0.name) })),
            ("seed", .integer(Int64(seed))), ("test_fraction", .number(testFraction)),
            ("max_per_task", .object(caps.keys.sorted().map { ($0, .integer(Int64(caps[$0]!))) })),
        ]
        stage.inputs = [("patients.jsonl", checksum)]
        try stage.recordOutputs(PipelineStage.samples.outputs, in: folder)
        stage.counts = .object([("patients", .integer(Int64(counts.patients))), ("samples", .integer(Int64(counts.total))),
                                ("tasks", counts.json)])
        manifest.set("samples", stage)
        try manifest.save()

        if json {
            print(stage.counts.jsonText)
        } else {
            // Candidates removed by each rule, in the order the rules apply.
            let rules = SampleRule.allCases
            print("task                     train    test  available  " + rules.map { $0.rawValue }.joined(separator: "  "))
            for task in taskSet.tasks {
                let entry = counts.byTask[task.name] ?? (0, 0)
                let removed = counts.removed[task.name] ?? [:]
                print(task.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                      + String(format: "%8d%8d%11d  ", entry.train, entry.test, counts.available[task.name] ?? 0)
                      + rules.map { String(removed[$0] ?? 0).leftPadded(to: $0.rawValue.count) }.joined(separator: "  "))
            }
            print("\(counts.total) samples from \(counts.patients) patients -> \(folder.samples)")
        }
    }

    private func parseCaps(_ taskSet: TaskSet) throws -> [String: Int]? {
        guard let maxPerTask else { return nil }
        if let all = Int(maxPerTask) {
            guard all > 0 else { throw ValidationError("--max-per-task must be positive") }
            return Dictionary(uniqueKeysWithValues: taskSet.tasks.map { ($0.name, all) })
        }
        var caps: [String: Int] = [:]
        for part in maxPerTask.split(separator: ",") {
            let pieces = part.split(separator: "=")
            guard pieces.count == 2, let cap = Int(pieces[1]), cap > 0,
                  taskSet.tasks.contains(where: { $0.name == String(pieces[0]) }) else {
                throw ValidationError("--max-per-task: expected N or TASK=N,...; cannot read \"\(part)\"")
            }
            caps[String(pieces[0])] = cap
        }
        return caps
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
