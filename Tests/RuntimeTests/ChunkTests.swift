import Foundation
import Testing
import TGSupport
@testable import Runtime

@Suite struct ChunkTests {
    @Test func resolvesFromOptionsOrSlurm() throws {
        #expect(try Chunk.resolve(count: nil, index: nil, environment: [:]) == Chunk.whole)
        #expect(try Chunk.resolve(count: 4, index: 2, environment: ["SLURM_ARRAY_TASK_COUNT": "9"]) == Chunk(count: 4, index: 2))
        // Arrays may start at 1: the index is offset by the minimum.
        let slurm = ["SLURM_ARRAY_TASK_COUNT": "10", "SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "1"]
        #expect(try Chunk.resolve(count: nil, index: nil, environment: slurm) == Chunk(count: 10, index: 6))
        #expect(throws: UsageError.self) { try Chunk.resolve(count: 3, index: 3, environment: [:]) }
        #expect(throws: UsageError.self) { try Chunk.resolve(count: 0, index: 0, environment: [:]) }
        #expect(throws: UsageError.self) { try Chunk.resolve(count: nil, index: nil, environment: ["SLURM_ARRAY_TASK_COUNT": "x"]) }
        #expect(try Chunk(count: 10, index: 3).name == "chunk-0003-of-0010")
    }

    @Test func everySplitCoversEveryItemOnce() throws {
        let ids = (0..<1000).map { "patient-\($0)" }
        for strategy in [ChunkStrategy.hash, .shuffle(seed: 42)] {
            var covered: [Int] = []
            var sizes: [Int] = []
            for index in 0..<7 {
                let part = strategy.select(ids, chunk: try Chunk(count: 7, index: index))
                covered += part
                sizes.append(part.count)
            }
            #expect(covered.sorted() == Array(ids.indices))
            #expect(sizes.min()! > 100, "\(strategy): \(sizes)")
            if case .shuffle = strategy { #expect(sizes.max()! - sizes.min()! <= 1) }
        }
        #expect(ChunkStrategy.shuffle(seed: 42).select(ids, chunk: try Chunk(count: 7, index: 3))
            == ChunkStrategy.shuffle(seed: 42).select(ids, chunk: try Chunk(count: 7, index: 3)))
        #expect(ChunkStrategy.shuffle(seed: 42).select(ids, chunk: try Chunk(count: 7, index: 3))
            != ChunkStrategy.shuffle(seed: 43).select(ids, chunk: try Chunk(count: 7, index: 3)))
    }

    @Test func hashSplitDoesNotMoveItemsWhenTheInputGrows() throws {
        let chunk = try Chunk(count: 5, index: 1)
        let before = (0..<500).map { "p\($0)" }
        let after = before + (500..<700).map { "p\($0)" }
        let first = Set(ChunkStrategy.hash.select(before, chunk: chunk).map { before[$0] })
        let second = Set(ChunkStrategy.hash.select(after, chunk: chunk).map { after[$0] })
        #expect(first.isSubset(of: second))
        #expect(ChunkStrategy.hash.contains("p3", chunk: chunk) == first.contains("p3"))
    }
}

@Suite struct ChunkWriterTests {
    let folder = NSTemporaryDirectory() + "tg-chunks-\(UUID().uuidString)"

    func record(_ id: String) -> JSONValue { .object([("id", .string(id)), ("value", .integer(1))]) }

    @Test func resumesAfterATornLastLine() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/chunk-0000-of-0001.jsonl"
        try (#"{"id":"a","value":1}"# + "\n" + #"{"id":"b","value":1}"# + "\n" + #"{"id":"c","va"#)
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            let writer = try ChunkWriter(path: path, saveEvery: 2)
            #expect(writer.resumed == 2 && writer.truncatedBytes == 13)
            #expect(writer.contains("a") && !writer.contains("c"))
            try writer.write(record("a"), id: "a")  // already there: ignored
            try writer.write(record("c"), id: "c")
            try writer.write(record("d"), id: "d")
            try writer.finish()
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").map { $0.contains(#""id":"a""#) ? "a" : String($0.dropFirst(7).prefix(1)) } == ["a", "b", "c", "d"])
        #expect(FileManager.default.fileExists(atPath: folder + "/chunk-0000-of-0001.done"))
        #expect(try ChunkWriter(path: path).isComplete)
    }

    @Test func aCompleteLastLineWithoutNewlineIsRedone() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/chunk-0000-of-0001.jsonl"
        try (#"{"id":"a"}"# + "\n" + #"{"id":"b"}"#).write(toFile: path, atomically: true, encoding: .utf8)
        let writer = try ChunkWriter(path: path)
        #expect(writer.resumed == 1 && !writer.contains("b"))
    }

    @Test func refusesDamageAndASecondWriter() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let damaged = folder + "/chunk-0000-of-0002.jsonl"
        try (#"{"id":"a"}"# + "\nnot json\n" + #"{"id":"b"}"# + "\n").write(toFile: damaged, atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try ChunkWriter(path: damaged) }
        let path = folder + "/chunk-0001-of-0002.jsonl"
        let first = try ChunkWriter(path: path)
        #expect(throws: UsageError.self) { try ChunkWriter(path: path) }
        _ = first
    }

    @Test func refusesToResumeOnOtherInputs() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/chunk-0000-of-0001.jsonl"
        do {
            let writer = try ChunkWriter(path: path, saveEvery: 1, fingerprint: "inputs A")
            try writer.write(record("a"), id: "a")
        }
        #expect(throws: UsageError.self) { try ChunkWriter(path: path, fingerprint: "inputs B") }
        #expect(try ChunkWriter(path: path, fingerprint: "inputs A").resumed == 1)
    }

    @Test func mergeNamesMissingChunksAndDropsDuplicates() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/stage", withIntermediateDirectories: true)
        for index in 0..<3 {
            let writer = try ChunkWriter(path: folder + "/stage/" + (try Chunk(count: 3, index: index)).name + ".jsonl")
            try writer.write(record("x\(index)"), id: "x\(index)")
            try writer.write(record("shared"), id: "shared")
            if index != 1 { try writer.finish() } else { try writer.checkpoint() }
        }
        do {
            _ = try ChunkMerge.merge(directory: folder + "/stage", into: folder + "/stage.jsonl")
            Issue.record("merged with a missing chunk")
        } catch let missing as ChunkMerge.Missing {
            #expect(missing.missing == [1])
            #expect(missing.description.contains("1 of 3 chunks not complete: 1"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/stage.jsonl"))
        try ChunkWriter(path: folder + "/stage/chunk-0001-of-0003.jsonl").finish()
        let summary = try ChunkMerge.merge(directory: folder + "/stage", into: folder + "/stage.jsonl")
        #expect(summary.records == 4 && summary.duplicates == 2)
        try "{}".write(toFile: folder + "/stage/chunk-0000-of-0004.jsonl", atomically: true, encoding: .utf8)
        #expect(throws: UsageError.self) { try ChunkMerge.merge(directory: folder + "/stage", into: folder + "/x.jsonl") }
    }
}

/// A compact run's chunks: gzip members written at each checkpoint, a torn
/// member cut off on resume, records read back by id.
@Suite struct CompressedChunkTests {
    let folder = NSTemporaryDirectory() + "tg-gzchunks-\(UUID().uuidString)"

    func record(_ id: String) -> JSONValue { .object([("id", .string(id)), ("text", .string(String(repeating: "w", count: 300)))]) }

    @Test func resumesAfterATornMemberAndReadsRecordsBack() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/chunk-0000-of-0001.jsonl.gz"
        do {
            let writer = try ChunkWriter(path: path, saveEvery: 10)
            for index in 0..<35 { try writer.write(record("r\(index)"), id: "r\(index)") }
            try writer.checkpoint()
        }
        // Killed mid-write: half a member at the end.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue
        var extra: [UInt8] = []
        let tail = Array((0..<5).map { #"{"id":"lost\#($0)"}"# + "\n" }.joined().utf8)
        try tail.withUnsafeBytes { try GzipBlocks.member($0, into: &extra) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(extra.prefix(extra.count / 2)))
        try handle.close()

        let resumed = try ChunkWriter(path: path, saveEvery: 10)
        #expect(resumed.resumed == 35 && resumed.truncatedBytes == extra.count / 2)
        #expect(resumed.contains("r34") && !resumed.contains("lost0"))
        for index in 35..<50 { try resumed.write(record("r\(index)"), id: "r\(index)") }
        try resumed.finish()
        #expect(try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue > size)
        #expect(FileManager.default.fileExists(atPath: folder + "/chunk-0000-of-0001.done"))

        let index = try RecordIndex(path: path)
        #expect(index.order == (0..<50).map { "r\($0)" })
        for id in ["r0", "r49", "r17", "r3"] { #expect(try index.record(id)?["id"]?.stringValue == id) }
        // The merge of a compressed chunk writes a compressed file alike.
        let merged = folder + "/merged.jsonl.gz"
        let summary = try ChunkMerge.merge(try ChunkMerge.completeChunks(in: folder, suffix: ".jsonl.gz"), into: merged)
        #expect(summary.records == 50)
        #expect(try RecordIndex(path: merged).record("r42")?["text"] == record("r42")["text"])
    }

    @Test func aChunkWhoseFileAMergeRemovedIsCompleteAndNotRecreated() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/chunk-0000-of-0001.jsonl.gz"
        do {
            let writer = try ChunkWriter(path: path)
            try writer.write(record("a"), id: "a")
            try writer.finish()
        }
        try FileManager.default.removeItem(atPath: path)
        let again = try ChunkWriter(path: path)
        #expect(again.isComplete)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try ChunkMerge.wasMergedAndRemoved(in: folder, suffix: ".jsonl.gz", merged: path) == false, "no merged file")
        try Data().write(to: URL(fileURLWithPath: folder + "/merged.jsonl.gz"))
        #expect(try ChunkMerge.wasMergedAndRemoved(in: folder, suffix: ".jsonl.gz", merged: folder + "/merged.jsonl.gz"))
    }
}

extension CompressedChunkTests {
    /// Outside a compact run, a finished chunk whose file was deleted is
    /// named by merge with the way out (its marker), not skipped forever.
    @Test func aMarkerWithoutItsFileIsNamed() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for index in 0..<2 {
            let writer = try ChunkWriter(path: folder + "/chunk-000\(index)-of-0002.jsonl")
            try writer.write(record("r\(index)"), id: "r\(index)")
            try writer.finish()
        }
        try FileManager.default.removeItem(atPath: folder + "/chunk-0001-of-0002.jsonl")
        #expect(throws: UsageError.self) { try ChunkMerge.completeChunks(in: folder) }
        do { _ = try ChunkMerge.completeChunks(in: folder) } catch {
            #expect("\(error)".contains("remove chunk-0001-of-0002.done and run chunk 1 again"), "\(error)")
        }
    }
}
