import Foundation
import Testing
import TestSupport

/// A compact run (`import --compact`) gives the records a plain run gives,
/// gzipped, with one copy of each stage's records: its merges remove the
/// chunk files they took, and the run still resumes, reports its status
/// and reads records by id.
@Suite struct CompactRunCLITests {
    static func inflated(_ path: String) throws -> String { try Gunzip.text(of: path) }

    static func size(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue
    }

    /// Import to evidence, the chunked stages as two workers each.
    static func pipeline(_ small: SmallRun, name: String, timelines: String, compact: Bool) throws -> String {
        let run = small.folder + "/" + name
        let tasks = try small.smallTaskFile()
        let commands: [[String]] = [
            ["import", "jsonl", timelines, "--run", run, "--quiet"] + (compact ? ["--compact"] : []),
            ["samples", "--run", run, "--tasks", tasks, "--json"],
            ["extract", "--run", run, "--lexicon", small.lexicon, "--chunk-num", "2", "--chunk-idx", "0", "--quiet"],
            ["extract", "--run", run, "--lexicon", small.lexicon, "--chunk-num", "2", "--chunk-idx", "1", "--quiet"],
            ["extract", "merge", "--run", run],
            ["cooccur", "--run", run, "--quiet"], ["cooccur", "merge", "--run", run],
            ["evidence", "--run", run, "--lexicon", small.lexicon, "--threshold", "0", "--min-support", "1", "--chunk-num", "2",
             "--chunk-idx", "0", "--quiet"],
            ["evidence", "--run", run, "--lexicon", small.lexicon, "--threshold", "0", "--min-support", "1", "--chunk-num", "2",
             "--chunk-idx", "1", "--quiet"],
            ["evidence", "merge", "--run", run],
        ]
        for arguments in commands {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        return run
    }

    @Test func aCompactRunGivesThePlainRunsRecordsInATenthOfTheDisk() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let timelines = try small.prepare(patients: 12, ontology: EvidenceCLITests.ontology)
        let plain = try Self.pipeline(small, name: "plain", timelines: timelines, compact: false)
        let compact = try Self.pipeline(small, name: "compact", timelines: timelines, compact: true)

        for name in ["patients.jsonl", "samples.jsonl", "extract.jsonl", "evidence.jsonl"] {
            #expect(!FileManager.default.fileExists(atPath: compact + "/" + name), "\(name) is kept gzipped only")
            let expected = try String(contentsOfFile: plain + "/" + name, encoding: .utf8)
            #expect(try Self.inflated(compact + "/" + name + ".gz") == expected, "\(name).gz holds the plain run's records")
            let (packed, text) = (try Self.size(compact + "/" + name + ".gz"), try Self.size(plain + "/" + name))
            #expect(packed < text)
        }
        // One copy: the merges removed the chunk files, their markers stay.
        for stage in ["extract", "evidence"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: compact + "/" + stage)
            #expect(!names.contains { $0.hasSuffix(".jsonl.gz") }, "\(stage): \(names)")
            #expect(names.filter { $0.hasSuffix(".done") }.count == 2)
        }
        let status = try Thinkgraph.run(["status", "--run", compact, "--json"])
        #expect(status.status == 0)
        for line in status.standardOutput.split(separator: "\n") where line.contains(#""stage":"extract""#) || line.contains(#""stage":"evidence""#) {
            let stage = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((stage["done"] as? [Int]) == [0, 1], "\(line)")
        }
        // A worker run again does nothing, and a second merge says it is done.
        let again = try Thinkgraph.run(["extract", "--run", compact, "--lexicon", small.lexicon, "--chunk-num", "2", "--chunk-idx", "1", "--quiet"])
        #expect(again.status == 0, "\(again.standardError)")
        #expect(!FileManager.default.fileExists(atPath: compact + "/extract/chunk-0001-of-0002.jsonl.gz"))
        let merge = try Thinkgraph.run(["extract", "merge", "--run", compact])
        #expect(merge.status == 0 && merge.standardOutput.contains("already merged"), "\(merge.standardOutput)\(merge.standardError)")
        // Later stages read the compressed records by id.
        let sample = try #require(try String(contentsOfFile: plain + "/samples.jsonl", encoding: .utf8)
            .split(separator: "\n").first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["id"] as? String)
        let rendered = try ["plain": plain, "compact": compact].mapValues { run in
            try Thinkgraph.run(["render", "--run", run, "--sample", sample]).standardOutput
        }
        #expect(rendered["plain"] == rendered["compact"] && !(rendered["plain"] ?? "").isEmpty)
        let bills = try [plain, compact].map { run in
            let result = try Thinkgraph.run(["reason", "--run", run, "--model", "gpt-4o", "--template", "without-knowledge", "--dry-run"])
            #expect(result.status == 0, "\(result.standardError)")
            // The first line names the run's folder.
            return result.standardOutput.split(separator: "\n").dropFirst().joined(separator: "\n")
        }
        #expect(bills[0] == bills[1] && bills[0].contains("requests"), "\(bills)")
    }
}
