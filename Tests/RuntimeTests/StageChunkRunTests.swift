import Foundation
import Testing
import TGSupport
@testable import Runtime

/// The scaffolding every chunked stage shares: each chunk makes only its
/// own items, a rerun resumes without making anything twice, a finished
/// chunk is not run again, and other inputs are refused, not mixed in.
@Suite struct StageChunkRunTests {
    let folder = NSTemporaryDirectory() + "tg-stage-\(UUID().uuidString)"
    let ids = (0..<20).map { "item-\($0)" }

    func open(_ chunk: Chunk, inputs: [String] = ["sha-a"]) throws -> StageChunkRun {
        try StageChunkRun(stage: "demo", run: RunFolder(folder), inputs: inputs, configuration: [("k", .integer(1))], chunk: chunk,
                          strategy: .hash, saveEvery: 3)
    }

    @Test func chunksSplitTheItemsAndResumeWithoutRepeating() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var made: [String] = []
        var owned = Set<String>()
        for index in 0..<3 {
            let run = try open(try Chunk(count: 3, index: index))
            run.choose(among: ids, progressLabel: "demo", quiet: true)
            owned.formUnion(run.mine)
            // Stop halfway (a crash): only some records are written.
            for id in ids where run.owns(id) && made.filter({ run.owns($0) }).count < 3 {
                try run.produce(id) { made.append(id); return .object([("id", .string(id))]) }
            }
            try run.writer.checkpoint()
        }
        #expect(owned == Set(ids))
        // The rerun makes only what is missing, then finishes.
        var again: [String] = []
        for index in 0..<3 {
            let run = try open(try Chunk(count: 3, index: index))
            run.choose(among: ids, progressLabel: "demo", quiet: true)
            for id in ids where run.owns(id) {
                try run.produce(id) { again.append(id); return .object([("id", .string(id))]) }
            }
            #expect(run.resumed == 3)
            try run.finish(configuration: [("k", .integer(1))], summary: .object([]))
        }
        #expect(Set(made).isDisjoint(with: again) && Set(made + again) == Set(ids))
        #expect(try open(try Chunk(count: 3, index: 0)).isComplete)
    }

    @Test func aChunkStartedOnOtherInputsIsRefused() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try open(.whole)
        run.choose(among: ids, progressLabel: "demo", quiet: true)
        try run.produce(ids[0]) { .object([("id", .string(ids[0]))]) }
        try run.writer.checkpoint()
        #expect(throws: (any Error).self) { try open(.whole, inputs: ["sha-b"]) }
        #expect(StageChunkRun.fingerprint(inputs: ["a"], configuration: [], chunk: .whole)
                != StageChunkRun.fingerprint(inputs: ["b"], configuration: [], chunk: .whole))
    }
}
