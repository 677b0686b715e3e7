import Foundation
import Testing
import TestSupport

/// The same inputs and options give byte-identical stage outputs, SQLite
/// files included; the co-occurrence matrix is the same bytes however the
/// samples were chunked.
@Suite struct DeterminismCLITests {
    static func stages(_ run: String, lexicon: String, chunks: Int) throws {
        func each(_ arguments: [String]) throws {
            for index in 0..<chunks {
                let result = try Thinkgraph.run(arguments + ["--chunk-num", "\(chunks)", "--chunk-idx", "\(index)", "--quiet"])
                try #require(result.status == 0, "\(arguments): \(result.standardError)")
            }
        }
        func merge(_ stage: String) throws {
            let result = try Thinkgraph.run([stage, "merge", "--run", run])
            try #require(result.status == 0, "\(stage) merge: \(result.standardError)")
        }
        try each(["extract", "--run", run, "--lexicon", lexicon])
        try merge("extract")
        try each(["cooccur", "--run", run])
        try merge("cooccur")
        try each(["evidence", "--run", run, "--lexicon", lexicon, "--threshold", "0", "--min-support", "1"])
        try merge("evidence")
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func twoRunsOnTheSameInputWriteTheSameBytes() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let timelines = try small.prepare(patients: 6, ontology: EvidenceCLITests.ontology)
        let first = try small.makeRun("first", timelines: timelines)
        let second = try small.makeRun("second", timelines: timelines)
        let chunked = try small.makeRun("chunked", timelines: timelines)
        try Self.stages(first, lexicon: small.lexicon, chunks: 1)
        try Self.stages(second, lexicon: small.lexicon, chunks: 1)
        try Self.stages(chunked, lexicon: small.lexicon, chunks: 3)
        for file in ["patients.jsonl", "samples.jsonl", "extract.jsonl", "cooccur.sqlite", "evidence.jsonl"] {
            let one = try Self.bytes(first + "/" + file)
            #expect(!one.isEmpty, "\(file) is empty")
            #expect(one == (try Self.bytes(second + "/" + file)), "\(file) differs between two runs")
        }
        // Chunked three ways: the matrix is the same file.
        #expect(try Self.bytes(first + "/cooccur.sqlite") == (try Self.bytes(chunked + "/cooccur.sqlite")),
                "cooccur.sqlite depends on the chunking")
        let evidence = try String(contentsOfFile: first + "/evidence.jsonl", encoding: .utf8)
        #expect(evidence.contains("\"status\":\"graph\""), "no graph: the comparison would prove little")
    }
}
