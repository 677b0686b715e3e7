import Foundation
import TGSupport

/// The last error of a chunk's worker, kept beside the chunk
/// (`RUN/<stage>/chunk-IIII-of-NNNN.failed`) so that `thinkgraph status`
/// can say why a chunk stopped, on a cluster where the job's log is
/// elsewhere. Written when the worker fails, removed when the chunk
/// finishes.
public struct ChunkFailure: Sendable, Equatable {
    public var chunk: String
    public var time: String
    public var message: String
    /// Where it ran: the host, and the Slurm job and array task when there was one.
    public var host: String
    public var slurmJob: String?

    public static func path(stage: String, chunk: Chunk, in run: RunFolder) -> String {
        run.chunkDirectory(stage) + "/" + chunk.name + ".failed"
    }

    /// Records `error` as the chunk's failure (best effort: a failure to
    /// write it must not hide the error itself).
    public static func record(_ error: any Error, stage: String, chunk: Chunk, in run: RunFolder) {
        let environment = ProcessInfo.processInfo.environment
        var job: String?
        if let id = environment["SLURM_ARRAY_JOB_ID"], let task = environment["SLURM_ARRAY_TASK_ID"] {
            job = id + "_" + task
        } else {
            job = environment["SLURM_JOB_ID"]
        }
        var members: [(String, JSONValue)] = [("chunk", .string(chunk.name)), ("time", .string(RunManifest.now())),
                                              ("message", .string(String(describing: error))),
                                              ("host", .string(ProcessInfo.processInfo.hostName))]
        if let job { members.append(("slurm_job", .string(job))) }
        try? FileManager.default.createDirectory(atPath: run.chunkDirectory(stage), withIntermediateDirectories: true)
        guard let writer = try? JSONLinesWriter(path: path(stage: stage, chunk: chunk, in: run)) else { return }
        try? writer.writeLine(.object(members))
        try? writer.commit()
    }

    /// The chunk finished: its old failure no longer holds.
    public static func clear(stage: String, chunk: Chunk, in run: RunFolder) {
        try? FileManager.default.removeItem(atPath: path(stage: stage, chunk: chunk, in: run))
    }

    /// Reads a `.failed` file.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, message: "cannot read") }
        let fields = try RecordFields(JSONValue.parse(String(decoding: data, as: UTF8.self)), file: path, line: 1)
        chunk = try fields.string("chunk")
        time = try fields.string("time")
        message = try fields.string("message")
        host = try fields.string("host")
        slurmJob = try fields.optionalString("slurm_job")
    }
}
