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

    /// The whole-file chunk (cooccur's SQLite partials): all or nothing,
    /// recognised as finished only on the same inputs and configuration,
    /// sealed so the merge can tell a changed file.
    @Test func aWholeFileChunkIsAllOrNothing() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func open(_ inputs: [String] = ["sha-a"]) throws -> WholeFileChunkRun {
            try WholeFileChunkRun(stage: "whole", suffix: ".bin", run: RunFolder(folder), inputs: inputs,
                                  configuration: [("k", .integer(1))], chunk: try Chunk(count: 2, index: 1), strategy: .hash)
        }
        do {
            let run = try open()
            #expect(!run.isComplete)
            run.choose(among: ids, progressLabel: "whole", quiet: true)
            #expect(!run.mine.isEmpty && run.mine.count < ids.count)
            // The work fails while writing: nothing is left that looks finished.
            struct Interrupted: Error {}
            #expect(throws: Interrupted.self) {
                try run.finish(summary: .object([])) { path in
                    try Data("half".utf8).write(to: URL(fileURLWithPath: path))
                    throw Interrupted()
                }
            }
            #expect(!FileManager.default.fileExists(atPath: run.output))
        }
        do {
            let run = try open()
            #expect(!run.isComplete)
            try run.finish(summary: .object([("n", .integer(3))])) { path in try Data("whole".utf8).write(to: URL(fileURLWithPath: path)) }
        }
        #expect(try open().isComplete)
        // The marker seals the file: the merge refuses it once changed.
        let chunk = try Chunk(count: 2, index: 1)
        let output = folder + "/whole/" + chunk.name + ".bin", marker = folder + "/whole/" + chunk.name + ".done"
        try ChunkMerge.verify(output, marker: marker, index: 1)
        try Data("wholE".utf8).write(to: URL(fileURLWithPath: output))
        #expect(throws: InputError.self) { try ChunkMerge.verify(output, marker: marker, index: 1) }
        // Other inputs: not finished (counted again), and the old marker goes.
        #expect(try open(["sha-b"]).isComplete == false)
        #expect(try open().isComplete == false)
    }
}
