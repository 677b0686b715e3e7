import ArgumentParser
import EHR
import Foundation
import Runtime
import TGSupport

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print a patient's events, or a sample's context, in EHR-R1's markdown format.",
        discussion: """
            Either --patients FILE --patient ID [--from I] [--to J], or --run DIR --sample ID (the sample's \
            context events, from RUN/samples.jsonl and RUN/patients.jsonl).
            """)

    @Option(help: "Timeline file.")
    var patients: String?

    @Option(help: "Patient id.")
    var patient: String?

    @Option(help: "First event (0-based index) to show.")
    var from = 0

    @Option(help: "Event index to stop before (default: all).")
    var to: Int?

    @Option(name: .customLong("run"), help: "Run folder (with --sample).")
    var runFolder: String?

    @Option(help: "Sample id (with --run).")
    var sample: String?

    @Option(help: "Token budget (estimated as UTF-8 bytes / 4): the oldest events are dropped first.")
    var maxTokens: Int?

    func validate() throws {
        let byPatient = patients != nil && patient != nil
        let bySample = runFolder != nil && sample != nil
        guard byPatient != bySample else {
            throw ValidationError("give --patients FILE --patient ID, or --run DIR --sample ID")
        }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
    }

    func run() throws {
        let rendered: (text: String, dropped: Int)
        if let runFolder, let sample {
            if let stale = try RunManifest(directory: runFolder).staleness() {
                throw UsageError("\(runFolder): \(stale)")
            }
            let folder = try RunFolder(runFolder)
            let found = try Self.findSample(sample, in: folder.samples)
            let patient = try Self.findPatient(found.patient, in: folder.patients)
            rendered = TimelineRenderer(format: try TaskSet.forRun(runFolder).format).render(found, of: patient, maxTokens: maxTokens)
        } else {
            let candidate = try Self.findPatient(patient!, in: patients!)
            let end = min(to ?? candidate.events.count, candidate.events.count)
            guard from >= 0, from <= end else { throw ValidationError("--from must be between 0 and \(end)") }
            rendered = TimelineRenderer().render(Array(candidate.events[from..<end]), maxTokens: maxTokens)
        }
        print(rendered.text, terminator: "")
        if rendered.dropped > 0 {
            FileHandle.standardError.write(Data("render: dropped the \(rendered.dropped) oldest events to fit \(maxTokens!) tokens\n".utf8))
        }
    }

    static func findPatient(_ id: String, in path: String) throws -> Patient {
        let reader = try TimelineReader(path: path)
        while let candidate = try reader.next() {
            if candidate.id == id { return candidate }
        }
        throw InputError(file: path, field: "patient", message: "no patient with id \"\(id)\"")
    }

    static func findSample(_ id: String, in path: String) throws -> Sample {
        let reader = try LineReader(path: path)
        while let bytes = try reader.nextLine() {
            let value = try JSONValue.parse(bytes)
            guard value["id"]?.stringValue == id else { continue }
            return try Sample(json: value, file: path, line: reader.lineNumber)
        }
        throw InputError(file: path, field: "id", message: "no sample with id \"\(id)\"")
    }
}
