import Foundation
import TGSupport

/// Where a run stands, stage by stage, from the run folder alone (no
/// scheduler needed): for a chunked stage, which chunks are done, running
/// (a worker holds the chunk's lock now), failed (the worker left its
/// error), stopped (a partial file and no worker: killed or preempted, it
/// resumes when run again) or waiting (no file yet); the records written;
/// whether the stage was merged; the last error.
public struct StageStatus: Sendable {
    public enum ChunkState: String, Sendable, CaseIterable {
        case done, running, failed, stopped, waiting
    }

    public var stage: PipelineStage
    /// run.json's status of the stage ("complete"), nil when it never finished.
    public var recorded: String?
    /// The stage's counts in run.json.
    public var counts: JSONValue?
    /// The chunk count of the chunk files found (nil: none found, or a stage that runs whole).
    public var chunkCount: Int?
    public var chunks: [Int: ChunkState] = [:]
    /// Records in the chunk files (done chunks: their markers' counts).
    public var records = 0
    /// Chunk files of another chunk count (left from an earlier run).
    public var otherChunkCounts: [Int] = []
    /// The newest failure among the chunks that are not done.
    public var lastError: ChunkFailure?

    public func indexes(_ state: ChunkState) -> [Int] { chunks.filter { $0.value == state }.map(\.key).sorted() }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("stage", .string(stage.rawValue)), ("recorded", recorded.map(JSONValue.string) ?? .null)]
        if let chunkCount {
            members.append(("chunks", .integer(Int64(chunkCount))))
            for state in ChunkState.allCases {
                members.append((state.rawValue, .array(indexes(state).map { .integer(Int64($0)) })))
            }
            members.append(("records", .integer(Int64(records))))
        }
        if let counts { members.append(("counts", counts)) }
        if let lastError {
            var error: [(String, JSONValue)] = [("chunk", .string(lastError.chunk)), ("time", .string(lastError.time)),
                                                ("host", .string(lastError.host)), ("message", .string(lastError.message))]
            if let job = lastError.slurmJob { error.append(("slurm_job", .string(job))) }
            members.append(("last_error", .object(error)))
        }
        return .object(members)
    }
}

public enum RunStatus {
    /// Every stage of `run`, in pipeline order.
    public static func of(_ run: RunFolder) throws -> [StageStatus] {
        let manifest = try RunManifest(directory: run.path)
        return try PipelineStage.allCases.map { stage in
            var status = StageStatus(stage: stage)
            if let entry = manifest.stage(stage.rawValue) {
                status.recorded = entry.status
                status.counts = entry.counts
            }
            if stage.chunkSuffix != nil { try chunks(of: stage, suffix: run.chunkSuffix(stage.rawValue), in: run, into: &status) }
            return status
        }
    }

    private static func chunks(of stage: PipelineStage, suffix: String, in run: RunFolder, into status: inout StageStatus) throws {
        let directory = run.chunkDirectory(stage.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        // Chunk index and count of every file a chunk leaves.
        var byCount: [Int: Set<Int>] = [:]
        var newest: [Int: Date] = [:]
        for name in names where name.hasPrefix("chunk-") {
            let stem = name.split(separator: ".").first.map(String.init) ?? name
            let parts = stem.dropFirst(6).split(separator: "-")
            guard parts.count == 3, parts[1] == "of", let index = Int(parts[0]), let count = Int(parts[2]), count > 0 else { continue }
            byCount[count, default: []].insert(index)
            let modified = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.modificationDate] as? Date) ?? .distantPast
            newest[count] = max(newest[count] ?? .distantPast, modified)
        }
        // The chunk count of the files written last.
        guard let count = newest.max(by: { $0.value < $1.value })?.key else { return }
        status.chunkCount = count
        status.otherChunkCounts = byCount.keys.filter { $0 != count }.sorted()
        for index in 0..<count {
            let chunk = try Chunk(count: count, index: index)
            let output = directory + "/" + chunk.name + suffix
            let marker = directory + "/" + chunk.name + ".done"
            let failure = directory + "/" + chunk.name + ".failed"
            let state: StageStatus.ChunkState
            // A compact run's merge removes the chunk files it took; their markers stay.
            let merged = run.isCompact && FileManager.default.fileExists(atPath: run.merged(stage.rawValue))
            if FileManager.default.fileExists(atPath: marker), merged || FileManager.default.fileExists(atPath: output) {
                state = .done
                status.records += recordsInMarker(marker) ?? 0
            } else if ChunkLock.isHeld(path: output) {
                state = .running
            } else if FileManager.default.fileExists(atPath: failure) {
                state = .failed
            } else if FileManager.default.fileExists(atPath: output) {
                state = .stopped
            } else {
                state = .waiting
            }
            if state != .done, suffix == ".jsonl", FileManager.default.fileExists(atPath: output) {
                status.records += (try? lines(in: output)) ?? 0
            }
            if state != .done, let recordedFailure = try? ChunkFailure(path: failure),
               recordedFailure.time >= (status.lastError?.time ?? "") {
                status.lastError = recordedFailure
            }
            status.chunks[index] = state
        }
    }

    /// A done chunk's record count (cooccur's markers count samples).
    private static func recordsInMarker(_ path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path),
              let value = try? JSONValue.parse(String(decoding: data, as: UTF8.self)) else { return nil }
        if case .integer(let records)? = value["records"] { return Int(records) }
        if case .integer(let samples)? = value["summary"]?["samples"] { return Int(samples) }
        return nil
    }

    /// Complete lines in a file (a torn last line is not a record).
    static func lines(in path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        var count = 0
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            count += block.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        return count
    }
}
