import ArgumentParser
import EHR
import Foundation
import Runtime
import TGSupport

/// The options every chunked stage shares.
struct ChunkOptions: ParsableArguments {
    @Option(help: "Number of chunks (default: SLURM_ARRAY_TASK_COUNT, else 1).")
    var chunkNum: Int?

    @Option(help: "This worker's chunk, 0-based (default: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, else 0).")
    var chunkIdx: Int?

    @Option(help: "How items are dealt to chunks: hash (stable as the input grows) or shuffle (EHR-R1's seeded shuffle and contiguous cuts).")
    var chunkSplit: SplitName = .hash

    @Option(help: "Seed of the shuffle chunk split.")
    var seed: UInt64 = 42

    @Option(help: "Write, flush and fsync the output every K records (a checkpoint).")
    var saveEvery = 100

    @Flag(help: "Print no progress on standard error.")
    var quiet = false

    @Flag(help: "Print a one-line JSON summary on standard output at the end.")
    var json = false

    enum SplitName: String, ExpressibleByArgument { case hash, shuffle }

    func chunk() throws -> Chunk {
        try Chunk.resolve(count: chunkNum, index: chunkIdx, environment: ProcessInfo.processInfo.environment)
    }

    var strategy: ChunkStrategy { chunkSplit == .hash ? .hash : .shuffle(seed: seed) }

    /// Runs a chunk's work; an error is kept beside the chunk
    /// (`ChunkFailure`) for `thinkgraph status`, and a success clears an
    /// earlier one. The error is thrown on as it was.
    func recordingFailure(of stage: PipelineStage, runFolder: String, _ work: () throws -> Void) throws {
        do {
            try work()
            noteOutcome(nil, of: stage, runFolder: runFolder)
        } catch {
            noteOutcome(error, of: stage, runFolder: runFolder)
            throw error
        }
    }

    func recordingFailure(of stage: PipelineStage, runFolder: String, _ work: () async throws -> Void) async throws {
        do {
            try await work()
            noteOutcome(nil, of: stage, runFolder: runFolder)
        } catch {
            noteOutcome(error, of: stage, runFolder: runFolder)
            throw error
        }
    }

    /// Keeps `error` beside the chunk, or clears an earlier one (nil).
    private func noteOutcome(_ error: (any Error)?, of stage: PipelineStage, runFolder: String) {
        guard let run = try? RunFolder(runFolder), let chunk = try? chunk() else { return }
        if let error {
            ChunkFailure.record(error, stage: stage.rawValue, chunk: chunk, in: run)
        } else {
            ChunkFailure.clear(stage: stage.rawValue, chunk: chunk, in: run)
        }
    }

    func validate() throws {
        guard saveEvery >= 1 else { throw ValidationError("--save-every must be at least 1") }
        if let chunkNum, chunkNum < 1 { throw ValidationError("--chunk-num must be at least 1") }
        if let chunkIdx, chunkIdx < 0 { throw ValidationError("--chunk-idx must be 0 or more") }
    }
}

/// Which side of the patient split a stage works on.
struct SplitOption: ParsableArguments {
    @Option(help: "Samples of training patients (train, the default), test patients (test) or both (all).")
    var split: SplitSelection = .train
}

extension SplitSelection: ExpressibleByArgument {}

/// The options of every `STAGE merge` command.
struct MergeOptions: ParsableArguments {
    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    @Flag(help: "Print the counts as one JSON line.")
    var json = false
}

/// `STAGE merge` for a stage whose chunks are JSON lines: the stage's name
/// and the run files it read are all that differ.
protocol StageMergeCommand: ParsableCommand {
    static var stage: PipelineStage { get }
    var merge: MergeOptions { get }
}

extension StageMergeCommand {
    func run() throws {
        try StageMerge.run(stage: Self.stage, runFolder: merge.runFolder, json: merge.json)
    }
}

/// Merges a chunked stage and records it in run.json.
enum StageMerge {
    /// The checksums of the stage's inputs (`PipelineStage.inputs`) and of
    /// the merged file, with its record format, go into run.json.
    static func run(stage pipelineStage: PipelineStage, runFolder: String, json: Bool) throws {
        let stage = pipelineStage.rawValue
        let run = try RunFolder(runFolder)
        let started = RunManifest.now()
        let suffix = run.chunkSuffix(stage)
        if run.isCompact, try ChunkMerge.wasMergedAndRemoved(in: run.chunkDirectory(stage), suffix: suffix, merged: run.merged(stage)) {
            print("\(stage): already merged into \(run.merged(stage)) (a compact run's merge removes the chunk files it took)")
            return
        }
        let files = try ChunkMerge.completeChunks(in: run.chunkDirectory(stage), suffix: suffix)
        let (configuration, counts) = try ChunkMerge.agreement(of: files, suffix: suffix)
        let summary = try ChunkMerge.merge(files, into: run.merged(stage))
        var manifest = try RunManifest(directory: run.path)
        var entry = RunManifest.Stage(status: "complete")
        // The stage started when its first chunk did (this run of it, not
        // an earlier one whose chunks were removed).
        entry.started = files.compactMap(ChunkWriter.startTime(of:)).min() ?? started
        entry.finished = RunManifest.now()
        entry.configuration = configuration + [("chunks", .integer(Int64(summary.chunks)))]
        try entry.recordInputs(of: pipelineStage, in: run)
        try entry.recordOutputs(pipelineStage.outputs, in: run)
        entry.counts = .object([("records", .integer(Int64(summary.records))),
                                ("duplicates_dropped", .integer(Int64(summary.duplicates)))]
            + counts.map { ($0.0, .integer($0.1)) })
        manifest.set(stage, entry)
        try manifest.save()
        // A compact run keeps one copy: the merged file holds every record
        // of the sealed chunks, whose markers stay for `status` and resume.
        if run.isCompact {
            for file in files { try FileManager.default.removeItem(atPath: file) }
        }
        if json {
            print(entry.counts.jsonText)
        } else {
            print("\(stage): merged \(summary.chunks) chunks, \(summary.records) records (\(summary.duplicates) duplicates dropped) -> \(run.merged(stage))")
        }
    }
}
