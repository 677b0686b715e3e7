import TGSupport

/// Imports timelines already in thinkgraph's JSONL format (`import jsonl`):
/// each patient's events sorted by time, a duplicate patient or a line
/// that is not a timeline rejected by the import mode.
public struct JSONLImporter {
    public init() {}

    public func run(file: String, output: JSONLinesWriter, rejects: RejectLog) throws -> ImportSummary {
        let reader = try TimelineReader(path: file)
        reader.requireTimeOrder = false
        var summary = ImportSummary()
        summary.files = 1
        var seen = Set<String>()
        while true {
            let patient: Patient
            do {
                guard let next = try reader.next() else { break }
                patient = next
            } catch let error as InputError {
                summary.rows += 1
                try rejects.reject(error, kind: "bad line")
                continue
            }
            summary.rows += 1
            guard seen.insert(patient.id).inserted else {
                try rejects.reject(InputError(file: file, line: reader.lineNumber, field: "patient",
                                              message: "duplicate id \"\(patient.id)\""), kind: "duplicate")
                continue
            }
            var sorted = patient
            sorted.sortEvents()
            try output.write(sorted)
            summary.patients += 1
            summary.events += sorted.events.count
        }
        summary.countRejects(rejects)
        return summary
    }
}
