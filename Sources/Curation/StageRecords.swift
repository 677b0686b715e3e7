import Foundation
import Runtime
import TGSupport

/// The records of one stage keyed by sample id: the merged file when there
/// is one, else every chunk file written so far (a run in progress can be
/// inspected too). Empty when the stage has not run.
struct StageRecords {
    private var indexes: [RecordIndex] = []
    /// Whether the stage left anything to read.
    var exists: Bool { !indexes.isEmpty }

    init(run: RunFolder, stage: String, merged: String? = nil) throws {
        let mergedPath = merged ?? run.merged(stage)
        if FileManager.default.fileExists(atPath: mergedPath) {
            indexes = [try RecordIndex(path: mergedPath)]
            return
        }
        let folder = run.chunkDirectory(stage)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".jsonl.gz") }.sorted()
        indexes = try names.map { try RecordIndex(path: folder + "/" + $0) }
    }

    func record(_ id: String) throws -> JSONValue? {
        for index in indexes {
            if let value = try index.record(id) { return value }
        }
        return nil
    }

    /// `id`'s record decoded by its record type (`EvidenceRecord.init`, ...),
    /// which names the file it came from when a field is wrong.
    func decoded<Record>(_ id: String, _ decode: (JSONValue, String, Int?) throws -> Record) throws -> Record? {
        for index in indexes {
            if let value = try index.record(id) { return try decode(value, index.path, nil) }
        }
        return nil
    }

    /// The first record, file by file, that satisfies `predicate`; reads
    /// no further.
    func first(where predicate: (JSONValue) throws -> Bool) throws -> JSONValue? {
        for index in indexes {
            for id in index.order {
                if let value = try index.record(id), try predicate(value) { return value }
            }
        }
        return nil
    }

    /// Every record, file by file.
    func forEach(_ body: (JSONValue) throws -> Void) throws {
        for index in indexes {
            for id in index.order {
                if let value = try index.record(id) { try body(value) }
            }
        }
    }
}
