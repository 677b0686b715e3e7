import Foundation
import TGSupport
@testable import EHR

/// Runs an importer as the import commands do (timeline and rejects files
/// in `folder`, committed only when it succeeds) and reads back what it
/// wrote: the summary, the patients and the rejects file's text.
enum ImportHarness {
    static func run(in folder: String, mode: ImportMode,
                    _ importer: (JSONLinesWriter, RejectLog) throws -> ImportSummary) throws -> (ImportSummary, [Patient], String) {
        let output = try JSONLinesWriter(path: folder + "/patients.jsonl")
        let rejects = try RejectLog(mode: mode, path: folder + "/rejects.jsonl")
        let summary = try importer(output, rejects)
        try rejects.commit()
        try output.commit()
        let reader = try TimelineReader(path: folder + "/patients.jsonl")
        var patients: [Patient] = []
        while let patient = try reader.next() { patients.append(patient) }
        return (summary, patients, (try? String(contentsOfFile: folder + "/rejects.jsonl", encoding: .utf8)) ?? "")
    }
}
