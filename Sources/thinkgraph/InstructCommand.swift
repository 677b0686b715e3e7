import ArgumentParser
import EHR
import Foundation
import Instruct
import LLM
import Runtime
import TGSupport

struct InstructCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instruct",
        abstract: "Instruction data from the run's patients (MIMIC-Instr's kinds).",
        subcommands: [InstructTemplatesCommand.self, InstructNotesCommand.self, InstructNotesMergeCommand.self, InstructNotesFilterCommand.self])
}

struct InstructTemplatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Question/answer pairs made from each patient's events by templates; answers computed from the record.",
        discussion: """
            Reads RUN/patients.jsonl; writes RUN/instruct-templates.jsonl (one pair per line: id, patient, split, template, \
            kind, question, answer, the events it reads) and RUN/instruct-templates-stats.json. Templates: the shipped file \
            (print it with --print-default-templates, edit, pass --templates FILE). Per template and patient, --per-template \
            questions are chosen by a generator seeded with --seed, the patient and the template. Patients keep the split \
            of their samples (the samples stage's seed and test fraction); --split train (default) leaves test patients out.
            """)

    @Option(name: .customLong("run"), help: "Run folder (after `thinkgraph samples`).")
    var runFolder: String?

    @Option(help: "Template file (default: the shipped qa-templates.json).")
    var templates: String?

    @Option(help: "Questions per template and patient.")
    var perTemplate = 1

    @Option(help: "Seed of the choice of events.")
    var seed: UInt64 = 42

    @Option(help: "Patients taken: train, test or all.")
    var split: SplitSelection = .train

    @Flag(help: "Ask the model (--model, the endpoint options) to word each question otherwise; answers stay as the record gives them. A paraphrase that loses a value the template put in (an item, a time, an admission) is not used.")
    var paraphrase = false

    @Option(help: "Model that paraphrases (with --paraphrase).")
    var model = "gpt-4o"

    @Option(help: "Sampling temperature of the paraphrases.")
    var temperature = 0.7

    @OptionGroup var endpoint: EndpointOptions

    @Flag(help: "Print the shipped template file and exit.")
    var printDefaultTemplates = false

    @Flag(help: "Run even if RUN/patients.jsonl changed since it was imported.")
    var force = false

    @Flag(help: "Print the counts as one JSON line.")
    var json = false

    func validate() throws {
        if printDefaultTemplates { return }
        guard runFolder != nil else { throw ValidationError("--run is required") }
        guard perTemplate > 0 else { throw ValidationError("--per-template must be at least 1") }
    }

    func run() async throws {
        if printDefaultTemplates {
            print(try QATemplateSet.shippedText(), terminator: "")
            return
        }
        let run = try RunFolder(runFolder!)
        let started = RunManifest.now()
        let checksum = try run.verify(.patients, force: force)
        let set = try QATemplateSet.load(templates)
        var manifest = try RunManifest(directory: run.path)
        // The samples' split: the same patients are test patients here.
        let splits = SampleSplits(manifest)
        var generator = TemplateQA(templates: set.templates)
        generator.seed = seed
        generator.perTemplate = perTemplate
        var stage = TemplateQAStage(generator: generator, splits: splits.builder)
        stage.split = split
        let output = run.path + "/instruct-templates.jsonl"
        // Where paraphrases would go is checked (key, egress) before anything is made.
        let resolved = paraphrase ? try endpoint.resolve() : nil
        let summary = try stage.run(patients: run.patients, output: output, templatesFile: set.source)
        var paraphrased: ParaphraseStage.Summary?
        if let resolved {
            let client = ChatClient(endpoint: resolved.endpoint, settings: resolved.settings)
            do {
                paraphrased = try await ParaphraseStage(parameters: ChatParameters(model: model, temperature: temperature))
                    .run(run, pairsFile: output, client: client, saveEvery: 100, quiet: json)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
        var entry = RunManifest.Stage(status: "complete")
        entry.started = started
        entry.finished = RunManifest.now()
        let templatesSHA256 = try templates.map { try sha256OfFile(atPath: $0) } ?? "shipped"
        entry.configuration = [("templates", .string(set.source)), ("templates_sha256", .string(templatesSHA256)),
                               ("per_template", .integer(Int64(perTemplate))), ("seed", .integer(Int64(seed))),
                               ("split", .string(split.rawValue)), ("split_seed", .integer(Int64(splits.seed))),
                               ("test_fraction", .number(splits.testFraction))]
        entry.inputs = [("patients.jsonl", checksum)]
        var counts = summary.json
        if let paraphrased, case .object(var members) = counts {
            members.append(("paraphrase", paraphrased.json))
            counts = .object(members)
            entry.configuration += [("paraphrase_model", .string(model)), ("paraphrase_temperature", .number(temperature))]
        }
        let stats = try JSONLinesWriter(path: run.path + "/instruct-templates-stats.json")
        try stats.writeLine(counts)
        try stats.commit()
        entry.counts = counts
        manifest.set("instruct_templates", entry)
        try manifest.save()
        if json {
            print(counts.jsonText)
            return
        }
        print("instruct templates: \(summary.pairs) pairs from \(summary.patients) patients -> \(output)")
        for name in set.templates.map(\.name) {
            print("  \(name): \(summary.byTemplate[name] ?? 0) pairs, \(summary.patientsWithout[name] ?? 0) patients without one")
        }
        if !summary.eventsMissing.isEmpty {
            print("  no patient has the events of: " + summary.eventsMissing.joined(separator: ", "))
        }
        if summary.patientsLeftOut > 0 { print("  \(summary.patientsLeftOut) patients of the other split left out (--split)") }
        if let paraphrased {
            let kept = paraphrased.kept.keys.sorted().map { "\($0) \(paraphrased.kept[$0]!)" }
            print("  paraphrased by \(model): \(paraphrased.used) of \(paraphrased.pairs) questions (\(paraphrased.asked) asked now, "
                  + "\(paraphrased.resumed) earlier)" + (kept.isEmpty ? "" : "; the template's wording kept: " + kept.joined(separator: ", ")))
        }
    }
}
