import ArgumentParser
import EHR
import Foundation
import TGSupport

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print a patient's events in EHR-R1's markdown format.")

    @Option(help: "Timeline file.")
    var patients: String

    @Option(help: "Patient id.")
    var patient: String

    @Option(help: "First event (0-based index) to show.")
    var from = 0

    @Option(help: "Event index to stop before (default: all).")
    var to: Int?

    @Option(help: "Token budget (estimated as UTF-8 bytes / 4): the oldest events are dropped first.")
    var maxTokens: Int?

    func run() throws {
        let reader = try TimelineReader(path: patients)
        while let candidate = try reader.next() {
            guard candidate.id == patient else { continue }
            let end = min(to ?? candidate.events.count, candidate.events.count)
            guard from >= 0, from <= end else { throw ValidationError("--from must be between 0 and \(end)") }
            let rendered = TimelineRenderer().render(Array(candidate.events[from..<end]), maxTokens: maxTokens)
            print(rendered.text, terminator: "")
            if rendered.dropped > 0 {
                FileHandle.standardError.write(Data("render: dropped the \(rendered.dropped) oldest events to fit \(maxTokens!) tokens\n".utf8))
            }
            return
        }
        throw InputError(file: patients, field: "patient", message: "no patient with id \"\(patient)\"")
    }
}
