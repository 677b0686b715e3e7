import ArgumentParser
import EHR
import Foundation
import Runtime
import TGSupport

extension ImportMode: ExpressibleByArgument {}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn EHR exports into patient timelines (JSONL, one patient per line; see docs/TIMELINES.md).",
        subcommands: [ImportMIMICCommand.self, ImportFHIRCommand.self, ImportOMOPCommand.self, ImportJSONLCommand.self, ImportValidateCommand.self])
}

/// Where an import writes, and how it treats bad input.
struct ImportDestination: ParsableArguments {
    @Option(help: "Run folder: writes RUN/patients.jsonl (and RUN/rejects.jsonl), recorded in RUN/run.json.")
    var run: String?

    @Option(help: "Timeline file to write instead of a run folder.")
    var out: String?

    @Option(help: "strict: stop at the first bad row or resource; lenient: skip it and record it in the rejects file.")
    var mode: ImportMode = .strict

    @Option(help: "Folder of code maps (CCS categories, ATC classes) added to coded records for the _ccs / _atc tasks: Lexicons/downloads/code-maps after Lexicons/fetch-open-vocabularies.sh, or your own *.tsv (see docs/TASKS.md).")
    var codeMaps: String?

    @Flag(help: "A compact run, for cohorts of MIMIC-IV's size: the timelines, samples and extract and evidence records are gzipped (RUN/patients.jsonl.gz, ...; still read by record), and each merge removes the chunk files it took. About a tenth of the disk.")
    var compact = false

    @Flag(help: "Print the summary as one JSON line on standard output.")
    var json = false

    @Flag(help: "Print no progress on standard error.")
    var quiet = false

    func validate() throws {
        guard (run == nil) != (out == nil) else { throw ValidationError("give exactly one of --run DIR or --out FILE") }
        guard !compact || run != nil else { throw ValidationError("--compact is for a run folder (--run); with --out, name the file FILE.jsonl.gz to gzip it") }
    }

    var timelinePath: String { out ?? "\(run!)/patients.jsonl" + (compact ? ".gz" : "") }

    func loadCodeMaps() throws -> CodeMaps? { try codeMaps.map(CodeMaps.load(folder:)) }
    var rejectsPath: String { run.map { "\($0)/rejects.jsonl" } ?? "\(out!).rejects.jsonl" }

    func prepare() throws {
        if let run { try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true) }
    }

    func progress(_ message: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data("import: \(message)\n".utf8))
    }

    /// Opens the timeline and rejects files, runs `body`, and commits both
    /// only if it succeeds; then reports.
    func perform(source: String, kind: String, _ body: (JSONLinesWriter, RejectLog) throws -> ImportSummary) throws {
        try prepare()
        let started = RunManifest.now()
        let output = try JSONLinesWriter(path: timelinePath)
        let rejects = try RejectLog(mode: mode, path: rejectsPath)
        let summary = try body(output, rejects)
        try rejects.commit()
        try output.commit()
        if let run {
            // One form of the timelines in a run: the other would decide whether the run is compact.
            try? FileManager.default.removeItem(atPath: "\(run)/patients.jsonl" + (compact ? "" : ".gz"))
        }
        try finish(summary, source: source, kind: kind, started: started)
    }

    /// Reports the summary and, in a run folder, records the stage in
    /// run.json with the timeline's checksum.
    func finish(_ summary: ImportSummary, source: String, kind: String, started: String) throws {
        var members: [(String, JSONValue)] = [("source", .string(source)), ("format", .string(kind)),
                                              ("output", .string(timelinePath)), ("mode", .string(mode.rawValue))]
        if case .object(let counts) = summary.json { members += counts }
        let record = JSONValue.object(members).jsonText
        if let run {
            var manifest = try RunManifest(directory: run)
            var stage = RunManifest.Stage(status: "complete")
            stage.started = started
            stage.finished = RunManifest.now()
            stage.configuration = [("source", .string(source)), ("format", .string(kind)), ("mode", .string(mode.rawValue))]
            try stage.recordOutputs(PipelineStage.import.outputs, in: RunFolder(run))
            stage.counts = summary.json
            manifest.set("import", stage)
            try manifest.save()
        }
        if json { print(record) }
        for warning in summary.warnings { FileHandle.standardError.write(Data("import: warning: \(warning)\n".utf8)) }
        progress("\(summary.patients) patients, \(summary.events) events from \(summary.rows) rows in \(summary.files) files"
            + (summary.rejected > 0 ? "; \(summary.rejected) rejected (see \(rejectsPath))" : ""))
    }
}

struct ImportFHIRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhir",
        abstract: "Import FHIR R4 data: a bulk export (*.ndjson, *.ndjson.gz) and/or Bundle files (*.json, *.json.gz: Synthea's, a server's searchset pages).",
        discussion: """
            Bundles of type transaction, batch, collection, searchset and document are read; references to \
            another entry (urn:uuid:..., urn:oid:...) are resolved within the bundle, and a resource whose \
            urn: reference names no entry is refused ("dangling reference").
            """)

    @Argument(help: "The export folder, or one .ndjson or Bundle .json file.")
    var directory: String

    @OptionGroup var destination: ImportDestination

    @Option(help: "Longest note or report text accepted, in bytes.")
    var maxTextBytes = 4 << 20

    func run() throws {
        var importer = FHIRImporter()
        importer.mapper = FHIRMapper(maximumTextBytes: maxTextBytes)
        importer.codeMaps = try destination.loadCodeMaps()
        try destination.perform(source: directory, kind: "fhir-r4") { output, rejects in
            try importer.run(directory: directory, output: output, rejects: rejects, progress: destination.progress)
        }
    }
}

struct ImportMIMICCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mimic",
        abstract: "Import MIMIC-IV CSV tables (.csv.gz or .csv) as PhysioNet ships them.",
        discussion: """
            Reads from --hosp: patients, admissions (both required), transfers, services, diagnoses_icd \
            (+ d_icd_diagnoses), procedures_icd (+ d_icd_procedures), prescriptions, emar, poe, omr, labevents \
            (+ d_labitems), microbiologyevents; from --icu: icustays, chartevents, datetimeevents, inputevents, \
            ingredientevents, outputevents, procedureevents (+ d_items); from --ed: edstays, triage, vitalsign, medrecon, \
            pyxis, diagnosis; from --note: discharge, radiology \
            (+ radiology_detail for exam names). Tables that are absent are skipped.
            """)

    @Option(help: "The hosp module folder.")
    var hosp: String

    @Option(help: "The icu module folder.")
    var icu: String?

    @Option(help: "The MIMIC-IV-ED module folder (edstays, triage, vitalsign, medrecon, pyxis, diagnosis).")
    var ed: String?

    @Option(help: "The note module folder (MIMIC-IV-Note).")
    var note: String?

    @OptionGroup var destination: ImportDestination

    @Option(help: "Longest note text accepted, in bytes.")
    var maxTextBytes = 4 << 20

    func run() throws {
        var importer = MIMICImporter()
        importer.maximumTextBytes = maxTextBytes
        importer.codeMaps = try destination.loadCodeMaps()
        try destination.perform(source: hosp, kind: "mimic-iv") { output, rejects in
            try importer.run(MIMICImporter.Folders(hosp: hosp, icu: icu, ed: ed, note: note), output: output, rejects: rejects,
                             progress: destination.progress)
        }
    }
}

struct ImportOMOPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "omop",
        abstract: "Import an OMOP CDM v5.3 / v5.4 export (one CSV per table, comma- or tab-separated, optionally gzipped).",
        discussion: """
            Reads person (required), death, visit_occurrence, condition_occurrence, drug_exposure, measurement, \
            procedure_occurrence, observation, device_exposure and note; concept ids are resolved through concept \
            (Athena's CONCEPT.csv or the export's own rows) when the folder has it. Sample with \
            `thinkgraph samples --tasks omop` (the default after an OMOP import); see docs/TIMELINES.md.
            """)

    @Argument(help: "The folder of table files (person.csv, concept.csv, ...).")
    var directory: String

    @OptionGroup var destination: ImportDestination

    @Option(help: "Longest note text accepted, in bytes.")
    var maxTextBytes = 4 << 20

    func run() throws {
        var importer = OMOPImporter()
        importer.maximumTextBytes = maxTextBytes
        importer.codeMaps = try destination.loadCodeMaps()
        try destination.perform(source: directory, kind: "omop-cdm") { output, rejects in
            try importer.run(folder: directory, output: output, rejects: rejects, progress: destination.progress)
        }
    }
}

struct ImportJSONLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonl",
        abstract: "Import timelines already in the JSONL format (events are sorted; duplicate patients refused).")

    @Argument(help: "Timeline file (.jsonl or .jsonl.gz).")
    var file: String

    @OptionGroup var destination: ImportDestination

    func run() throws {
        try destination.perform(source: file, kind: "jsonl") { output, rejects in
            try JSONLImporter().run(file: file, output: output, rejects: rejects)
        }
    }
}

struct ImportValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a timeline file; name every problem by line and field (exit 1 if any).")

    @Argument(help: "Timeline file.")
    var file: String

    func run() throws {
        let result = try TimelineReader(path: file).validate()
        for problem in result.problems { print(problem.description) }
        print("\(file): \(result.patients) patients, \(result.events) events, \(result.problems.count) problems")
        if !result.problems.isEmpty { throw ExitCode(1) }
    }
}
